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

BatchTensors make_batch(const std::vector<SentencePair>& pairs, const std::vector<int32_t>& indices,
                        const ModelConfig& config) {
  int64_t source_length = 1, target_length = 1;
  for (int32_t i : indices) {
    source_length = std::max<int64_t>(source_length, static_cast<int64_t>(pairs[i].source.size()) + 1);
    target_length = std::max<int64_t>(target_length, static_cast<int64_t>(pairs[i].target.size()) + 1);
  }
  const int64_t b = static_cast<int64_t>(indices.size());
  BatchTensors out;
  out.batch.source = Tensor::empty(Shape{b, source_length}, DType::i32);
  out.batch.target_in = Tensor::empty(Shape{b, target_length}, DType::i32);
  out.batch.target_out = Tensor::empty(Shape{b, target_length}, DType::i32);
  int32_t* src = out.batch.source.data<int32_t>();
  int32_t* tin = out.batch.target_in.data<int32_t>();
  int32_t* tout = out.batch.target_out.data<int32_t>();
  std::fill(src, src + b * source_length, config.pad_id);
  std::fill(tin, tin + b * target_length, config.pad_id);
  std::fill(tout, tout + b * target_length, config.pad_id);
  for (int64_t row = 0; row < b; ++row) {
    const SentencePair& p = pairs[indices[row]];
    // The source ends with eos too, so that the encoder sees where the sentence stops.
    std::copy(p.source.begin(), p.source.end(), src + row * source_length);
    src[row * source_length + static_cast<int64_t>(p.source.size())] = config.eos_id;
    tin[row * target_length] = config.bos_id;
    std::copy(p.target.begin(), p.target.end(), tin + row * target_length + 1);
    std::copy(p.target.begin(), p.target.end(), tout + row * target_length);
    tout[row * target_length + static_cast<int64_t>(p.target.size())] = config.eos_id;
    out.target_tokens += static_cast<int64_t>(p.target.size()) + 1;
  }
  fill_alignment(pairs, indices, config.alignment_step, out.batch);
  return out;
}

}  // namespace heed
