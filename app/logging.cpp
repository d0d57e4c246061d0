#include "logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "heed/core/error.h"

namespace heed::app {

void setup_logging(const std::string& level, bool quiet) {
  auto logger = spdlog::stderr_color_mt("heed");
  logger->set_pattern("[%H:%M:%S] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  const auto parsed = spdlog::level::from_str(level);
  HEED_CHECK(parsed != spdlog::level::off || level == "off",
             "--log-level: unknown level '{}' (trace, debug, info, warn, error, off)", level);
  spdlog::set_level(quiet ? std::max(parsed, spdlog::level::warn) : parsed);
}

}  // namespace heed::app
