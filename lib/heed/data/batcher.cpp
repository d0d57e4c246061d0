#include "heed/data/batcher.h"

#include <algorithm>
#include <numeric>

#include "heed/core/rng.h"

namespace heed {
namespace {

// Fisher-Yates with our own generator, so that the order is the same on every platform
// (std::shuffle's algorithm is unspecified).
template <typename T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.next_u64() % i]);
}

// Each pair's length on one side: training batches are sized by target tokens (pieces + eos),
// ties in length broken by the source's pieces.
std::vector<int64_t> lengths_of(const std::vector<SentencePair>& pairs, std::vector<int32_t> SentencePair::*side,
                                int64_t extra) {
  std::vector<int64_t> lengths;
  lengths.reserve(pairs.size());
  for (const SentencePair& p : pairs) lengths.push_back(static_cast<int64_t>((p.*side).size()) + extra);
  return lengths;
}

}  // namespace

BatchPlan plan_epoch(const std::vector<SentencePair>& pairs, const BatchingOptions& options, int64_t epoch) {
  Rng rng(mix64(options.seed) ^ mix64(static_cast<uint64_t>(epoch) + 1));
  std::vector<int32_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);  // ties in length land in a new order each epoch
  const std::vector<int64_t> sources = lengths_of(pairs, &SentencePair::source, 0);
  BatchPlan plan = batches_by_length(std::move(order), lengths_of(pairs, &SentencePair::target, 1),
                                     {.tokens = options.batch_tokens}, &sources);
  shuffle(plan, rng);   // and the batches come in a new order
  return plan;
}

BatchPlan plan_in_order(const std::vector<SentencePair>& pairs, int64_t batch_tokens) {
  std::vector<int32_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  const std::vector<int64_t> sources = lengths_of(pairs, &SentencePair::source, 0);
  return batches_by_length(std::move(order), lengths_of(pairs, &SentencePair::target, 1), {.tokens = batch_tokens},
                           &sources);
}

namespace {

// Guided alignment: row k of a pair's [T, S] matrix belongs to the step that predicts target piece
// k; its links to source pieces share the row evenly. The eos row and padding stay zero.
// Row k of a target's [T, S] block is decoder position k, which predicts target piece k and reads
// piece k - 1; the guided step decides which of the two a piece's links land on.
void fill_alignment(const std::vector<SentencePair>& pairs, const std::vector<int32_t>& indices, AlignmentStep step,
                    Batch& batch) {
  const bool any = std::any_of(indices.begin(), indices.end(), [&](int32_t i) { return !pairs[i].piece_links.empty(); });
  if (!any) return;
  const int64_t b = batch.source.shape()[0], s = batch.source.shape()[1], t = batch.target_out.shape()[1];
  batch.alignment = Tensor::zeros(Shape{b, t, s}, DType::f32);
  float* g = batch.alignment.f32();
  const int64_t shift = step == AlignmentStep::shift ? 1 : 0;  // pieces < T - 1, so k + 1 stays a row
  std::vector<int32_t> per_row;
  for (int64_t row = 0; row < b; ++row) {
    const SentencePair& p = pairs[indices[row]];
    per_row.assign(p.target.size(), 0);
    for (const Link& link : p.piece_links) ++per_row[static_cast<size_t>(link.second)];
    for (const Link& link : p.piece_links)
      g[(row * t + link.second + shift) * s + link.first] += 1.0f / static_cast<float>(per_row[static_cast<size_t>(link.second)]);
  }
}

}  // namespace

Tensor padded_ids(const std::vector<const std::vector<int32_t>*>& sequences, int32_t before, int32_t after,
                  int32_t pad_id) {
  const int64_t extra = (before != kNoId) + (after != kNoId);
  int64_t length = 1;
  for (const std::vector<int32_t>* s : sequences) length = std::max(length, static_cast<int64_t>(s->size()) + extra);
  const int64_t rows = static_cast<int64_t>(sequences.size());
  Tensor ids = Tensor::empty(Shape{rows, length}, DType::i32);
  int32_t* p = ids.data<int32_t>();
  std::fill(p, p + rows * length, pad_id);
  for (int64_t r = 0; r < rows; ++r) {
    int32_t* row = p + r * length;
    if (before != kNoId) *row++ = before;
    row = std::copy(sequences[r]->begin(), sequences[r]->end(), row);
    if (after != kNoId) *row = after;
  }
  return ids;
}

Tensor source_ids(const std::vector<std::vector<int32_t>>& sources, const BatchLayout& layout) {
  std::vector<const std::vector<int32_t>*> rows;
  for (const std::vector<int32_t>& s : sources) rows.push_back(&s);
  return padded_ids(rows, kNoId, layout.eos_id, layout.pad_id);
}

BatchTensors make_batch(const std::vector<SentencePair>& pairs, const std::vector<int32_t>& indices,
                        const BatchLayout& layout) {
  std::vector<const std::vector<int32_t>*> sources, targets;
  BatchTensors out;
  for (int32_t i : indices) {
    sources.push_back(&pairs[i].source);
    targets.push_back(&pairs[i].target);
    out.target_tokens += static_cast<int64_t>(pairs[i].target.size()) + 1;
  }
  // The source ends with eos too, so that the encoder sees where the sentence stops.
  out.batch.source = padded_ids(sources, kNoId, layout.eos_id, layout.pad_id);
  out.batch.target_in = padded_ids(targets, layout.bos_id, kNoId, layout.pad_id);
  out.batch.target_out = padded_ids(targets, kNoId, layout.eos_id, layout.pad_id);
  fill_alignment(pairs, indices, layout.alignment_step, out.batch);
  return out;
}

}  // namespace heed
