#include "option_checks.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace heed::app {

CLI::Validator number_in(double low, double high, Bound low_bound, Bound high_bound) {
  const std::string range = fmt::format("{} {:g} and {} {:g}", low_bound == Bound::open ? "greater than" : "at least", low,
                                        high_bound == Bound::open ? "below" : "at most", high);
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

}  // namespace heed::app
