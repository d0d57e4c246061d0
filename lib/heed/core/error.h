#pragma once
// heed::Error is the one exception type the library throws. It carries a message that names
// what was wrong and where (a file and line of input, a layer, a tensor), so that the CLI can
// print it as one line and exit non-zero. The library never calls exit().

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace heed {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}

  // Adds an outer context in front of the message: "while loading model.heed: <inner>".
  [[nodiscard]] Error with_context(const std::string& context) const;
};

// Text from a file, made safe to print in a one-line message: control characters and bytes that
// are not UTF-8 become \xNN escapes, and more than 120 bytes are cut with "...". A damaged file
// must not be able to write escape sequences to a user's terminal.
std::string printable(std::string_view text);

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace heed

// Checks a condition on input or arguments (always on, also in release builds) and throws
// heed::Error with a formatted message when it does not hold.
#define HEED_CHECK(condition, ...)   \
  do {                               \
    if (!(condition)) {              \
      ::heed::fail(__VA_ARGS__);     \
    }                                \
  } while (false)
