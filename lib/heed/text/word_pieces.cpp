#include "heed/text/word_pieces.h"

namespace heed {

WordPieces encode_words(const Vocabulary& vocabulary, std::string_view text) {
  WordPieces out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    if (end == i) break;
    for (int32_t piece : vocabulary.encode(text.substr(i, end - i))) {
      out.pieces.push_back(piece);
      out.word_of_piece.push_back(out.words);
    }
    ++out.words;
    out.texts.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

int64_t count_words(std::string_view text) {
  int64_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\t';
    words += !space && !in_word;
    in_word = !space;
  }
  return words;
}

}  // namespace heed
