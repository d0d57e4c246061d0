#pragma once
// spdlog set-up: every log line goes to stderr, so stdout carries data only.

#include <string>

namespace heed::app {

// level: trace, debug, info, warn, error, off. quiet lowers the level to warn.
void setup_logging(const std::string& level, bool quiet);

}  // namespace heed::app
