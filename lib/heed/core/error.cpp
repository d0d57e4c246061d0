#include "heed/core/error.h"

namespace heed {

Error Error::with_context(const std::string& context) const {
  return Error(context + ": " + what());
}

}  // namespace heed
