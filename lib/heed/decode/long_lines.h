#pragma once
// A line longer than the model translates well is cut into parts it can translate: at sentence
// ends first (each sentence its own part, as in training), then, for a sentence that is itself
// too long, at word starts. The parts' translations are joined with a space. Nothing of the line
// is dropped.

#include <cstdint>
#include <string_view>
#include <vector>

#include "heed/text/vocabulary.h"

namespace heed {

// The line's text split after sentence-ending punctuation (. ! ? … and the CJK full stops, with
// closing quotes or brackets after them) that is followed by white space, or the line's end.
std::vector<std::string_view> split_sentences(std::string_view text);

// Parts of at most `limit` pieces (limit >= 1) whose concatenation covers all of `text`.
std::vector<std::vector<int32_t>> split_long_line(std::string_view text, const Vocabulary& vocabulary, int64_t limit);

}  // namespace heed
