#include <doctest/doctest.h>

#include <string>

#include "heed/text/clean_text.h"

namespace heed {
namespace {

std::string utf8_of(char32_t c) {
  if (c < 0x80) return std::string(1, static_cast<char>(c));
  const auto byte = [](char32_t bits) { return static_cast<char>(bits); };
  if (c < 0x800) return {byte(0xC0 | (c >> 6)), byte(0x80 | (c & 0x3F))};
  if (c < 0x10000) return {byte(0xE0 | (c >> 12)), byte(0x80 | ((c >> 6) & 0x3F)), byte(0x80 | (c & 0x3F))};
  return {byte(0xF0 | (c >> 18)), byte(0x80 | ((c >> 12) & 0x3F)), byte(0x80 | ((c >> 6) & 0x3F)), byte(0x80 | (c & 0x3F))};
}

TEST_CASE("a line of code points that show nothing is blank, by Unicode's properties") {
  // White space, format characters, fillers, variation selectors, tags, musical formatting,
  // interlinear annotation, the blank Braille cell: each alone, and several together.
  for (char32_t c : {0x20u, 0xA0u, 0x3000u, 0x200Bu, 0x2028u, 0xFEFFu, 0x115Fu, 0x1160u, 0x3164u, 0xFFA0u, 0x034Fu,
                     0x061Cu, 0xFE00u, 0xFE0Fu, 0xE0001u, 0xE0020u, 0x17B4u, 0x17B5u, 0x1D173u, 0xFFF9u, 0x2800u}) {
    CAPTURE(static_cast<uint32_t>(c));
    CHECK(is_blank(utf8_of(c)));
    CHECK(is_blank(" " + utf8_of(c) + "\t" + utf8_of(c)));
  }
  CHECK(is_blank(""));
  // Anything visible makes a line text, wherever it stands.
  for (char32_t c : {0x61u, 0xE4u, 0x3002u, 0x3042u, 0x1F600u, 0x2801u, 0x0301u, 0x0640u}) {
    CAPTURE(static_cast<uint32_t>(c));
    CHECK_FALSE(is_blank(utf8_of(c)));
    CHECK_FALSE(is_blank(utf8_of(0x3164) + utf8_of(c) + utf8_of(0xFE0F)));
  }
}

}  // namespace
}  // namespace heed
