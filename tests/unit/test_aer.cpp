// Alignment error rate against hand-computed cases (Och & Ney 2003's definitions).

#include <doctest/doctest.h>

#include "heed/core/error.h"
#include "heed/eval/aer.h"

namespace heed {
namespace {

TEST_CASE("AER, precision and recall equal hand-computed values, summed over the corpus") {
  // A = {0-0, 1-1, 2-1}, S = {0-0, 2-2}, P = S ∪ {1-1}: |A∩S| = 1, |A∩P| = 2,
  // AER = 1 − (1 + 2) / (3 + 2) = 40 %, precision 2/3, recall 1/2.
  const AerScore one = corpus_aer({"0-0 1-1 2-1"}, {"0-0 1p1 2-2"}, "hyp", "gold", {});
  CHECK(one.aer == doctest::Approx(40.0));
  CHECK(one.precision == doctest::Approx(200.0 / 3.0));
  CHECK(one.recall == doctest::Approx(50.0));
  CHECK(one.predicted == 3);
  CHECK(one.sure == 2);
  CHECK(one.possible == 1);
  // A second sentence, exactly right: counts are summed before dividing, 1 − 5/7.
  const AerScore two = corpus_aer({"0-0 1-1 2-1", "0-1"}, {"0-0 1p1 2-2", "0-1"}, "hyp", "gold", {});
  CHECK(two.aer == doctest::Approx(100.0 * 2.0 / 7.0));
  CHECK(two.precision == doctest::Approx(75.0));
  CHECK(two.recall == doctest::Approx(200.0 / 3.0));
  // Duplicated predicted links count once.
  CHECK(corpus_aer({"0-0 0-0"}, {"0-0"}, "hyp", "gold", {}).aer == doctest::Approx(0.0));
}

TEST_CASE("AER reads one-based and reversed gold files") {
  CHECK(corpus_aer({"0-0 1-1 2-1"}, {"1-1 2p2 3-3"}, "hyp", "gold", {.one_based = true}).aer == doctest::Approx(40.0));
  CHECK(corpus_aer({"0-1"}, {"1-0"}, "hyp", "gold", {.reverse_gold = true}).aer == doctest::Approx(0.0));
  CHECK(corpus_aer({"0-1"}, {"1-0"}, "hyp", "gold", {}).aer == doctest::Approx(100.0));
  CHECK(corpus_aer({""}, {""}, "hyp", "gold", {}).aer == doctest::Approx(0.0));  // nothing to align, nothing wrong
}

TEST_CASE("AER refuses malformed links and mismatched files, naming file and line") {
  CHECK_THROWS_WITH_AS(corpus_aer({"0-0", "1-x"}, {"0-0", "1-1"}, "hyp.txt", "gold", {}),
                       doctest::Contains("hyp.txt:2: '1-x' is not a link"), Error);
  CHECK_THROWS_WITH_AS(corpus_aer({"0p0"}, {"0-0"}, "hyp.txt", "gold", {}), doctest::Contains("hyp.txt:1: '0p0'"), Error);
  CHECK_THROWS_WITH_AS(corpus_aer({"0-0"}, {"0-0 0-1 0-1", "1-1"}, "hyp.txt", "gold.talp", {}),
                       doctest::Contains("hyp.txt has 1 lines but the gold alignments gold.talp have 2"), Error);
  CHECK_THROWS_WITH_AS(corpus_aer({"0-0"}, {"0-1"}, "hyp", "gold.talp", {.one_based = true}),
                       doctest::Contains("gold.talp:1: '0-1' has a 0 index"), Error);
}

}  // namespace
}  // namespace heed
