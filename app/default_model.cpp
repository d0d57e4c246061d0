#include "default_model.h"

#include <spdlog/spdlog.h>

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

std::string resolve_model(const std::string& given) {
  std::error_code ec;
  if (given.empty() || std::filesystem::exists(given, ec) || given.find('/') != std::string::npos) return given;
  const std::filesystem::path folder = default_model_path().parent_path();
  for (const std::string& name : {given, given + ".heed"})
    if (std::filesystem::is_regular_file(folder / name, ec)) {
      spdlog::info("using the installed model {}", (folder / name).string());
      return (folder / name).string();
    }
  return given;
}

}  // namespace heed::app
