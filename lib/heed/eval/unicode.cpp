#include "heed/eval/unicode.h"

#include <algorithm>
#include <iterator>

namespace heed {
namespace {

struct CodeRange {
  char32_t first, last;
};
struct LowerMapping {
  char32_t from;
  char32_t to[3];  // up to three code points, 0-padded
};

#include "heed/eval/unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodeRange (&ranges)[N], char32_t c) {
  const auto it = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                                   [](char32_t value, const CodeRange& r) { return value < r.first; });
  return it != std::begin(ranges) && c <= std::prev(it)->last;
}

}  // namespace

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    char32_t cp = length == 1 ? c : length == 2 ? (c & 0x1F) : length == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = length > 0 && i + length <= n;
    for (size_t k = 1; ok && k < length; ++k) {
      ok = (s[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      i += 1;
      continue;
    }
    out.push_back(cp);
    i += length;
  }
  return out;
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool is_whitespace(char32_t c) { return in_ranges(kWhitespace, c); }
bool is_punctuation(char32_t c) { return in_ranges(kPunctuation, c); }
bool is_number(char32_t c) { return in_ranges(kNumber, c); }
bool is_symbol(char32_t c) { return in_ranges(kSymbol, c); }

namespace {

// Python's one context rule in str.lower() (Unicode's Final_Sigma): a capital sigma becomes final
// sigma when a cased letter comes before it and none after it, case-ignorable characters skipped.
char32_t lower_sigma(std::u32string_view text, size_t at) {
  const auto ignorable = [](char32_t c) { return in_ranges(kCaseIgnorable, c); };
  size_t before = at;
  while (before > 0 && ignorable(text[before - 1])) --before;
  bool final = before > 0 && in_ranges(kCased, text[before - 1]);
  if (final) {
    size_t after = at + 1;
    while (after < text.size() && ignorable(text[after])) ++after;
    final = after == text.size() || !in_ranges(kCased, text[after]);
  }
  return final ? U'\u03C2' : U'\u03C3';
}

}  // namespace

std::u32string to_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == U'\u03A3') {
      out.push_back(lower_sigma(text, i));
      continue;
    }
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
      continue;
    }
    const auto it = std::lower_bound(std::begin(kLowercase), std::end(kLowercase), c,
                                     [](const LowerMapping& m, char32_t value) { return m.from < value; });
    if (it == std::end(kLowercase) || it->from != c) {
      out.push_back(c);
      continue;
    }
    for (char32_t t : it->to)
      if (t != 0) out.push_back(t);
  }
  return out;
}

std::string rstrip(std::string_view text) {
  std::u32string s = decode_utf8(text);
  while (!s.empty() && is_whitespace(s.back())) s.pop_back();
  return encode_utf8(s);
}

std::vector<std::u32string> split_whitespace(std::u32string_view text) {
  std::vector<std::u32string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_whitespace(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_whitespace(text[i])) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

}  // namespace heed
