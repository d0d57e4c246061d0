#pragma once
// The few Unicode facts scoring needs, from tables generated out of the Python that runs
// sacreBLEU (tools/make_unicode_tables.py), so that heed splits, lowercases and classifies
// characters exactly as sacreBLEU does.

#include <string>
#include <string_view>
#include <vector>

namespace heed {

// Invalid UTF-8 decodes to U+FFFD, one per bad byte (as Python's errors="replace" does).
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);

bool is_whitespace(char32_t c);   // what Python's str.split() splits on
bool is_punctuation(char32_t c);  // \p{P}
bool is_number(char32_t c);       // \p{N}
bool is_symbol(char32_t c);       // \p{S}
std::u32string to_lower(std::u32string_view text);  // Python's str.lower()

// Python's str.rstrip(): trailing whitespace removed (sacreBLEU reads every line so).
std::string rstrip(std::string_view text);

// Python's str.split(): runs of whitespace separate, none at either end.
std::vector<std::u32string> split_whitespace(std::u32string_view text);

}  // namespace heed
