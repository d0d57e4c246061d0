#pragma once
// From attention over pieces to links between words.
//
// Attention over pieces is aggregated to words (text/word_pieces.h: a target word's pieces
// averaged, a source word's pieces summed), then the row maxima (each target word's best source
// word) and the column maxima (each source word's best target word) are symmetrised with
// grow-diag (Koehn et al. 2003).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heed/eval/aer.h"
#include "heed/text/word_pieces.h"

namespace heed {

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
// "intersection", "union", "grow-diag" or "grow-diag-final-and"; parse throws naming `what` otherwise.
std::string_view symmetrization_name(Symmetrization how);
Symmetrization parse_symmetrization(std::string_view text, std::string_view what);
// The metadata key of the symmetrisation a model's alignments were tuned with (`heed convert
// --symmetrize`, chosen on gold links held out from the test), which `heed align` uses unless
// told otherwise.
inline constexpr std::string_view kAlignSymmetrizeKey = "align-symmetrize";

// Links (source word, target word), sorted: the symmetrised row and column maxima of `words`
// (rows: target words), ignoring maxima below `threshold`.
std::vector<Link> extract_links(const AttentionMatrix& words, Symmetrization how = Symmetrization::grow_diag,
                                float threshold = 0.0f);

// Each row's maximum, as (column, row) links: with rows = target words, each target word's best
// source word (maxima below `threshold` are left out).
std::vector<Link> row_maxima(const AttentionMatrix& words, float threshold = 0.0f);

// Links from two models of opposite directions: each model's own links (extract_links with
// grow-diag; forward: [target × source words], reverse: [source × target words]), symmetrised as
// statistical aligners' two directions are.
std::vector<Link> combine_directions(const AttentionMatrix& forward, const AttentionMatrix& reverse, Symmetrization how,
                                     float threshold = 0.0f);

// Symmetrises two directional link sets (both as (source, target)).
std::vector<Link> symmetrize(const std::vector<Link>& a, const std::vector<Link>& b, int32_t source_words,
                             int32_t target_words, Symmetrization how);

std::string pharaoh(const std::vector<Link>& links);  // "0-0 1-2 2-1"

}  // namespace heed
