#pragma once
// A line longer than the model translates well is cut into parts it can translate: at sentence
// ends first (each sentence its own part, as in training), then, for a sentence that is itself
// too long, at word starts. The parts' translations are joined with a space. Nothing of the line
// is dropped.

#include <cstdint>
#include <string_view>
#include <vector>

#include "heed/text/sentences.h"
#include "heed/text/vocabulary.h"

namespace heed {

// Parts of at most `limit` pieces (limit >= 1) whose concatenation covers all of `text`: its
// sentences (text/sentences.h), and a sentence longer than that in runs of whole words of about
// equal length, each at most `part` pieces (0: `limit`).
std::vector<std::vector<int32_t>> split_long_line(std::string_view text, const Vocabulary& vocabulary, int64_t limit,
                                                  SentenceLanguage language = SentenceLanguage::any, int64_t part = 0);

}  // namespace heed
