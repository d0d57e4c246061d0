#pragma once
// The one way heed groups sentences into batches, for training, validation and translation
// alike: sorted by length, so that a batch holds sentences of similar length and little of it
// is padding, then cut within a sentence and a padded-token limit.

#include <cstdint>
#include <vector>

namespace heed {

using BatchPlan = std::vector<std::vector<int32_t>>;  // batches of sentence indices

struct BatchLimits {
  int64_t sentences = 0;  // most items per batch (0: no limit)
  int64_t tokens = 0;     // most padded tokens per batch, the longest length × the items (0: no limit)
};
// `order` (indices into lengths) sorted by length, stably, ties broken by `tie_break` lengths when
// given, then cut into consecutive batches within the limits.
BatchPlan batches_by_length(std::vector<int32_t> order, const std::vector<int64_t>& lengths, BatchLimits limits,
                            const std::vector<int64_t>* tie_break = nullptr);

}  // namespace heed
