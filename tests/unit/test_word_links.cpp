// From piece attention to word links: the word mapping, the aggregation, and symmetrisation.

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "heed/align/word_links.h"
#include "heed/core/rng.h"

namespace heed {
namespace {

WordPieces words_of(std::vector<int32_t> word_of_piece) {
  WordPieces w;
  w.word_of_piece = word_of_piece;
  w.pieces.assign(word_of_piece.size(), 0);
  w.words = word_of_piece.empty() ? 0 : word_of_piece.back() + 1;
  return w;
}

TEST_CASE("attention over pieces becomes attention over words: target pieces averaged, source pieces summed") {
  // Source words: [p0 p1] [p2]; target words: [q0] [q1 q2].
  const WordPieces source = words_of({0, 0, 1});
  const WordPieces target = words_of({0, 1, 1});
  AttentionMatrix pieces{3, 3, {0.2f, 0.3f, 0.5f,  //
                                0.1f, 0.1f, 0.8f,  //
                                0.6f, 0.2f, 0.2f}};
  const AttentionMatrix words = words_from_pieces(pieces, source, target);
  REQUIRE(words.rows == 2);
  REQUIRE(words.cols == 2);
  CHECK(words.at(0, 0) == doctest::Approx(0.5f));
  CHECK(words.at(0, 1) == doctest::Approx(0.5f));
  CHECK(words.at(1, 0) == doctest::Approx((0.2f + 0.8f) / 2));
  CHECK(words.at(1, 1) == doctest::Approx((0.8f + 0.2f) / 2));
}

TEST_CASE("row and column maxima are symmetrised: intersection, union, grow-diag, grow-diag-final-and") {
  // Rows: target words; columns: source words.
  AttentionMatrix m{3, 3, {0.9f, 0.1f, 0.0f,   //
                           0.2f, 0.3f, 0.5f,   //
                           0.1f, 0.6f, 0.3f}};
  // Row maxima (source, target): 0-0, 2-1, 1-2. Column maxima: 0-0, 1-2, 2-1.
  CHECK(pharaoh(extract_links(m, Symmetrization::intersection)) == "0-0 1-2 2-1");
  AttentionMatrix n{2, 3, {0.5f, 0.4f, 0.1f,  //
                           0.1f, 0.2f, 0.7f}};
  // Rows: 0-0, 2-1. Columns: 0-0, 1-0, 2-1. 1-0 is a neighbour of 0-0 and source word 1 is unaligned.
  CHECK(pharaoh(extract_links(n, Symmetrization::intersection)) == "0-0 2-1");
  CHECK(pharaoh(extract_links(n, Symmetrization::union_)) == "0-0 1-0 2-1");
  CHECK(pharaoh(extract_links(n, Symmetrization::grow_diag)) == "0-0 1-0 2-1");
  // A link of one direction far from the others joins only with final-and.
  const std::vector<Link> a = {{0, 0}}, b = {{0, 0}, {3, 3}};
  CHECK(pharaoh(symmetrize(a, b, 4, 4, Symmetrization::grow_diag)) == "0-0");
  CHECK(pharaoh(symmetrize(a, b, 4, 4, Symmetrization::grow_diag_final_and)) == "0-0 3-3");
  CHECK(pharaoh(extract_links(m, Symmetrization::grow_diag, 0.95f)).empty());  // every maximum under the threshold
}

TEST_CASE("with a reverse model, each direction's own links are symmetrised") {
  // Attention that singles out one source word per target word (a permutation), in both
  // directions: each model's own links are that permutation, and so is every symmetrisation.
  Rng rng(11);
  for (const int32_t n : {2, 5, 9}) {
    std::vector<int32_t> permutation(static_cast<size_t>(n));  // target t ↔ source t + 1 (mod n)
    for (int32_t t = 0; t < n; ++t) permutation[static_cast<size_t>(t)] = (t + 1) % n;
    AttentionMatrix forward{n, n, std::vector<float>(static_cast<size_t>(n * n))}, reverse = forward;
    for (float& v : forward.values) v = rng.uniform(0.0f, 0.1f);
    for (float& v : reverse.values) v = rng.uniform(0.0f, 0.1f);
    for (int32_t t = 0; t < n; ++t) {
      const int32_t s = permutation[static_cast<size_t>(t)];
      forward.at(t, s) = 1.0f;
      reverse.at(s, t) = 1.0f;
    }
    std::vector<Link> links;
    for (int32_t t = 0; t < n; ++t) links.emplace_back(permutation[static_cast<size_t>(t)], t);
    std::sort(links.begin(), links.end());
    for (Symmetrization how : {Symmetrization::intersection, Symmetrization::union_, Symmetrization::grow_diag,
                               Symmetrization::grow_diag_final_and})
      CHECK(pharaoh(combine_directions(forward, reverse, how)) == pharaoh(links));
  }
  // Directions that disagree everywhere: forward's own links 0-0 1-1; reverse's (its rows: both
  // source words look at target 1; its columns: target 0 at source 1, target 1 at source 0) 0-1 1-0.
  const AttentionMatrix forward{2, 2, {0.9f, 0.1f,   //
                                       0.2f, 0.8f}};
  const AttentionMatrix reverse{2, 2, {0.1f, 0.9f,   //
                                       0.3f, 0.7f}};
  CHECK(pharaoh(combine_directions(forward, reverse, Symmetrization::intersection)).empty());
  CHECK(pharaoh(combine_directions(forward, reverse, Symmetrization::union_)) == "0-0 0-1 1-0 1-1");
}

}  // namespace
}  // namespace heed
