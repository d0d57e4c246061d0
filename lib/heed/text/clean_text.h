#pragma once
// What counts as text in a line of input. A line of only white space or invisible characters
// (Unicode's White_Space and Default_Ignorable_Code_Point: NBSP, U+3000, zero-width space, a
// byte-order mark, variation selectors, tags, Hangul fillers; controls; a blank Braille cell) is blank: translating it
// would make the model invent a sentence. Control characters other than tab carry no text and
// confuse the model (a NUL inside a sentence added words): they are removed.

#include <cstddef>
#include <string>
#include <string_view>

namespace heed {

// True when `line` (valid UTF-8) holds no visible character.
bool is_blank(std::string_view line);

// Removes C0 controls but tab, DEL and C1 controls from `line` (valid UTF-8); a final carriage
// return (a CRLF file's line end) goes silently. Returns how many were removed, that one excluded.
size_t remove_control_characters(std::string& line);

}  // namespace heed
