#include "default_model.h"

#include <cstdlib>
#include <system_error>

#include "heed/core/error.h"

namespace heed::app {

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  HEED_CHECK(!ec, "cannot find heed's own executable through /proc/self/exe: {}", ec.message());
  return exe.parent_path();
}

std::filesystem::path default_model_path() {
  if (const char* env = std::getenv("HEED_DEFAULT_MODEL"); env != nullptr && *env != '\0') return env;
  return (executable_dir().parent_path() / "share" / "heed" / "en-de.heed").lexically_normal();
}

}  // namespace heed::app
