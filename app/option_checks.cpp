#include "option_checks.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace heed::app {

namespace {
// Whole bounds in plain digits ("1073741824", not "1.07374e+09"); others as short as they go.
std::string bound_text(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fmt::format("{:g}", value);
}
}  // namespace

CLI::Validator number_in(double low, double high, Bound low_bound, Bound high_bound) {
  const std::string range = fmt::format("{} {} and {} {}", low_bound == Bound::open ? "greater than" : "at least",
                                        bound_text(low), high_bound == Bound::open ? "below" : "at most", bound_text(high));
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        const bool parsed = !text.empty() && end == text.c_str() + text.size() && errno == 0;
        const bool inside = parsed && std::isfinite(value) && (low_bound == Bound::open ? value > low : value >= low) &&
                            (high_bound == Bound::open ? value < high : value <= high);
        return inside ? std::string() : fmt::format("'{}' must be a number {}", text, range);
      },
      "number " + range, "number_in");
}

CLI::Validator whole_number_up_to(uint64_t high) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        const bool inside = !text.empty() && ec == std::errc() && end == text.data() + text.size() && value <= high;
        return inside ? std::string() : fmt::format("'{}' must be a whole number from 0 to {}", text, high);
      },
      fmt::format("whole number from 0 to {}", high), "whole_number_up_to");
}

}  // namespace heed::app
