#pragma once
// From attention over pieces to links between words.
//
// Users align words, not subword pieces: the whitespace-separated words of the text they gave,
// counted from 0, source first (Pharaoh "i-j"). Each word is encoded on its own, so every piece
// belongs to exactly one word (SentencePiece never lets a piece cross a space, so the
// concatenation is the line's own encoding), and a word whose text makes no piece still has its
// index. Attention is aggregated to words (a target word's pieces averaged, a source word's
// pieces summed), then the row maxima (each target word's best source word) and the column
// maxima (each source word's best target word) are symmetrised with grow-diag (Koehn et al. 2003).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heed/eval/aer.h"
#include "heed/text/vocabulary.h"

namespace heed {

struct WordPieces {
  std::vector<int32_t> pieces;         // the line's pieces
  std::vector<int32_t> word_of_piece;  // for each piece, its word
  int32_t words = 0;
  std::vector<std::string> texts;      // the words themselves
};

WordPieces encode_words(const Vocabulary& vocabulary, std::string_view text);

// A [rows × cols] matrix, row-major: rows are target words (or pieces), columns source ones.
struct AttentionMatrix {
  int32_t rows = 0, cols = 0;
  std::vector<float> values;
  float at(int32_t r, int32_t c) const { return values[static_cast<size_t>(r) * cols + c]; }
  float& at(int32_t r, int32_t c) { return values[static_cast<size_t>(r) * cols + c]; }
};

// pieces: [target pieces × source pieces] attention (the end-of-sentence columns left out).
AttentionMatrix words_from_pieces(const AttentionMatrix& pieces, const WordPieces& source, const WordPieces& target);

enum class Symmetrization : uint8_t { intersection, union_, grow_diag, grow_diag_final_and };

// Links (source word, target word), sorted: the symmetrised row and column maxima of `words`
// (rows: target words), ignoring maxima below `threshold`.
std::vector<Link> extract_links(const AttentionMatrix& words, Symmetrization how = Symmetrization::grow_diag,
                                float threshold = 0.0f);

// Symmetrises two directional link sets (both as (source, target)).
std::vector<Link> symmetrize(const std::vector<Link>& a, const std::vector<Link>& b, int32_t source_words,
                             int32_t target_words, Symmetrization how);

std::string pharaoh(const std::vector<Link>& links);  // "0-0 1-2 2-1"

}  // namespace heed
