#include "heed/text/clean_text.h"

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

// Unicode's White_Space, and the format characters that show nothing on their own.
bool is_invisible(char32_t c) {
  if (is_control(c) || c == 0x20 || c == 0xA0 || c == 0xAD || c == 0x1680 || c == 0x180E) return true;
  if ((c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F)) return true;
  return c == 0x3000 || c == 0xFEFF;
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
