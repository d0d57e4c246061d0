#pragma once
// ReferenceBackend: every op as the plainest loop that states its formula, accumulating in
// double. Slow on purpose; the tests hold every other backend to it.

#include "heed/backend/backend.h"

namespace heed {

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "reference"; }

 protected:
  HEED_BACKEND_OVERRIDES
  Tensor do_allocate_zeroed(const Shape& shape, DType dtype) override;

};

}  // namespace heed
