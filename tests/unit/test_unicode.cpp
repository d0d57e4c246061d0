// Lowercasing as Python's str.lower() does it (sacreBLEU's --lowercase), context rule included.

#include <doctest/doctest.h>

#include <string>

#include "heed/eval/unicode.h"

namespace heed {
namespace {

std::string lower(const std::string& text) { return encode_utf8(to_lower(decode_utf8(text))); }

TEST_CASE("lowercasing matches Python's str.lower(), Greek final sigma included") {
  // Each expected value was printed by Python 3.11's str.lower().
  CHECK(lower("ΤΗΣ") == "της");
  CHECK(lower("ΣΑΣ ΟΔΟΣ.") == "σας οδος.");
  CHECK(lower("Σ") == "σ");
  CHECK(lower("ΑΣ'Β") == "ασ'β");  // an apostrophe is skipped: a cased letter follows
  CHECK(lower("Α.Σ") == "α.ς");    // a full stop is skipped: a cased letter precedes
  CHECK(lower("ΑΣ1") == "ας1");
  CHECK(lower("1Σ") == "1σ");
  CHECK(lower("ΑΣΣ") == "ασς");
  CHECK(lower("İ") == "i\u0307");  // one code point becomes two
  CHECK(lower("Straße ÄÖÜ") == "straße äöü");
}

}  // namespace
}  // namespace heed
