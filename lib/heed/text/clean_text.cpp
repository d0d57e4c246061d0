#include "heed/text/clean_text.h"

#include <algorithm>
#include <iterator>

namespace heed {
namespace {

// One code point of valid UTF-8 at `i`; advances i.
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return s[i++] & 0x7F;
  const int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  char32_t c = b & (0xFF >> (length + 1));
  for (int k = 1; k < length && i + static_cast<size_t>(k) < s.size(); ++k) c = (c << 6) | (byte(i + k) & 0x3F);
  i += static_cast<size_t>(length);
  return c;
}

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

struct InvisibleRange {
  char32_t first, last;
};
#include "heed/text/invisible_table.inc"

// Unicode's White_Space and Default_Ignorable_Code_Point, and the controls: by the property, not
// a list of the code points someone tried.
bool is_invisible(char32_t c) {
  const auto* after = std::upper_bound(std::begin(kInvisible), std::end(kInvisible), c,
                                       [](char32_t value, const InvisibleRange& r) { return value < r.first; });
  return after != std::begin(kInvisible) && c <= (after - 1)->last;
}

}  // namespace

bool is_blank(std::string_view line) {
  for (size_t i = 0; i < line.size();)
    if (!is_invisible(next_code_point(line, i))) return false;
  return true;
}

size_t remove_control_characters(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  size_t removed = 0, out = 0;
  for (size_t i = 0; i < line.size();) {
    const size_t start = i;
    const char32_t c = next_code_point(line, i);
    if (c != '\t' && is_control(c)) {
      ++removed;
      continue;
    }
    for (size_t k = start; k < i; ++k) line[out++] = line[k];
  }
  line.resize(out);
  return removed;
}

}  // namespace heed
