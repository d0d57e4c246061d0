#pragma once
// A line as whitespace words and their pieces. Word alignments (heed align, guided alignment
// training) count the words of the text users gave, from 0; each word is encoded on its own, so
// every piece belongs to exactly one word (SentencePiece never lets a piece cross a space, so
// the concatenation is the line's own encoding), and a word whose text makes no piece still has
// its index.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heed/text/vocabulary.h"

namespace heed {

struct WordPieces {
  std::vector<int32_t> pieces;         // the line's pieces
  std::vector<int32_t> word_of_piece;  // for each piece, its word
  int32_t words = 0;
  std::vector<std::string> texts;      // the words themselves
};

WordPieces encode_words(const Vocabulary& vocabulary, std::string_view text);

// The number of white-space words in text, as encode_words counts them.
int64_t count_words(std::string_view text);

}  // namespace heed
