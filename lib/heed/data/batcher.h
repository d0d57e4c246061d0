#pragma once
// Batches by a target-token budget, sentences grouped by length so that little is padding,
// reshuffled each epoch. An epoch's plan is a pure function of (seed, epoch), so resuming
// needs only the epoch and the position within it.

#include <cstdint>
#include <vector>

#include "heed/data/corpus.h"
#include "heed/data/length_batches.h"
#include "heed/data/batch.h"

namespace heed {

struct BatchingOptions {
  int64_t batch_tokens = 4096;  // target tokens (pieces + eos) per batch, at most
  uint64_t seed = 1;
};

// Epoch `epoch`'s batches, in the order to train on them.
BatchPlan plan_epoch(const std::vector<SentencePair>& pairs, const BatchingOptions& options, int64_t epoch);

// Batches in corpus order (for validation): sorted by length for little padding, every pair once.
BatchPlan plan_in_order(const std::vector<SentencePair>& pairs, int64_t batch_tokens);

// Sequences as the rows of an i32 tensor [B, L]: each row is `before` (unless kNoId), the
// sequence, `after` (unless kNoId), then pad_id up to the longest row (L >= 1). Training's
// batches and decoding's sources are built by it.
inline constexpr int32_t kNoId = -1;
Tensor padded_ids(const std::vector<const std::vector<int32_t>*>& sequences, int32_t before, int32_t after,
                  int32_t pad_id);
// A batch of sources to decode: pieces, eos, padding.
Tensor source_ids(const std::vector<std::vector<int32_t>>& sources, const BatchLayout& layout);

// The tensors of one batch: source [B, S], target_in = bos + target, target_out = target + eos.
struct BatchTensors {
  Batch batch;
  int64_t target_tokens = 0;  // real target tokens, eos included
};
BatchTensors make_batch(const std::vector<SentencePair>& pairs, const std::vector<int32_t>& indices,
                        const BatchLayout& layout);

}  // namespace heed
