// The batcher every stage shares: sentences sorted by length, cut within the sentence and
// padded-token limits, every sentence exactly once.

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "heed/data/batcher.h"
#include "heed/data/length_batches.h"

using namespace heed;

TEST_CASE("batches by length hold every sentence once, sorted, within both limits") {
  const std::vector<int64_t> lengths{5, 3, 9, 3, 1, 7, 5, 2, 30, 4, 6, 3};
  std::vector<int32_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  for (const BatchLimits limits : {BatchLimits{}, BatchLimits{.sentences = 3}, BatchLimits{.tokens = 16},
                                   BatchLimits{.sentences = 2, .tokens = 12}}) {
    CAPTURE(limits.sentences);
    CAPTURE(limits.tokens);
    const BatchPlan plan = batches_by_length(order, lengths, limits);
    std::vector<int32_t> seen;
    for (const auto& batch : plan) {
      REQUIRE_FALSE(batch.empty());
      if (limits.sentences > 0) CHECK(static_cast<int64_t>(batch.size()) <= limits.sentences);
      int64_t longest = 0;
      for (int32_t i : batch) longest = std::max(longest, lengths[static_cast<size_t>(i)]);
      // A sentence longer than the token limit still gets a batch, alone.
      if (limits.tokens > 0 && batch.size() > 1) CHECK(longest * static_cast<int64_t>(batch.size()) <= limits.tokens);
      seen.insert(seen.end(), batch.begin(), batch.end());
    }
    for (size_t k = 1; k < seen.size(); ++k)
      CHECK(lengths[static_cast<size_t>(seen[k - 1])] <= lengths[static_cast<size_t>(seen[k])]);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == order);
    if (limits.sentences == 0 && limits.tokens == 0) CHECK(plan.size() == 1);
  }
  // Lengths 1, 2, 3 fill 3 × 3 = 9 padded tokens; a fourth of length 3 would make 12.
  const BatchPlan tight = batches_by_length(order, lengths, {.tokens = 9});
  CHECK(tight.front() == std::vector<int32_t>{4, 7, 1});
}

TEST_CASE("equal lengths keep their given order unless a tie-break decides") {
  const std::vector<int64_t> lengths{2, 2, 2, 1};
  const std::vector<int64_t> second{9, 1, 5, 0};
  const std::vector<int32_t> order{2, 0, 1, 3};
  CHECK(batches_by_length(order, lengths, {}).front() == std::vector<int32_t>{3, 2, 0, 1});
  CHECK(batches_by_length(order, lengths, {}, &second).front() == std::vector<int32_t>{3, 1, 2, 0});
}

TEST_CASE("padded ids: before, the sequence, after, then padding to the longest row") {
  const std::vector<int32_t> a{5, 6, 7}, b{}, c{8};
  const Tensor t = padded_ids({&a, &b, &c}, 2, 3, 0);  // bos 2, eos 3, pad 0
  REQUIRE(t.shape() == Shape({3, 5}));
  const std::vector<int32_t> expected{2, 5, 6, 7, 3, /**/ 2, 3, 0, 0, 0, /**/ 2, 8, 3, 0, 0};
  CHECK(std::vector<int32_t>(t.data<int32_t>(), t.data<int32_t>() + 15) == expected);
  const Tensor bare = padded_ids({&b}, kNoId, kNoId, 0);  // never narrower than one position
  CHECK(bare.shape() == Shape({1, 1}));
  CHECK(bare.data<int32_t>()[0] == 0);
}
