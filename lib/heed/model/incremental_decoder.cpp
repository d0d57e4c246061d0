#include "heed/model/incremental_decoder.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "heed/core/error.h"

namespace heed {

IncrementalDecoder::IncrementalDecoder(Transformer& model) : model_(model) {}

void IncrementalDecoder::start(Backend& be, const Tensor& source, int64_t capacity) {
  const ModelConfig& c = model_.config();
  HEED_CHECK(capacity >= 1 && capacity <= c.max_positions,
             "decoder: {} target positions requested, the model allows 1 to {}", capacity, c.max_positions);
  // The encoder runs kEncoderChunk sentences at a time: its buffers, a layer's own, are sized by
  // the most rows one pass encodes, so a wide decoding batch (greedy's 32 sentences) does not
  // widen them. Each sentence's encoding is independent of the others in its pass.
  const int64_t sentences = source.shape()[0], length = source.shape()[1];
  memory_ = memory_buffer_.view(be, Shape{sentences, length, c.model_dim});
  source_lengths_ = lengths_buffer_.view(be, Shape{sentences}, DType::i32);
  for (int64_t first = 0; first < sentences; first += kEncoderChunk) {
    const int64_t end = std::min(sentences, first + kEncoderChunk);
    const Tensor memory = model_.encode(be, source.slice_rows(first, end), RunMode{});
    be.copy(memory, memory_.slice_rows(first, end));  // the model's buffers are reused by the next pass
    be.copy(model_.source_lengths_view_, source_lengths_.slice_rows(first, end));
  }
  rows_per_memory_ = 1;
  layers_.resize(model_.decoder_.size());
  layer_outputs_.resize(model_.decoder_.size());
  position_ = 0;
  capacity_ = capacity;
  const int64_t first = std::min(self_cache_limit(), kFirstCacheCapacity);
  for (size_t i = 0; i < layers_.size(); ++i) model_.decoder_[i]->start(be, memory_, first, layers_[i]);
}

int64_t IncrementalDecoder::self_cache_limit() const {
  // With a window W a step reads only the last W + 1 positions: the cache becomes a ring of
  // that many (MultiHeadAttention::step_self), whatever the output's length.
  const int64_t window = model_.config().attention_window;
  return window > 0 ? std::min(capacity_, window + 1) : capacity_;
}

void IncrementalDecoder::select_rows(Backend& be, const std::vector<int32_t>& rows, RowSelection what,
                                     int64_t rows_per_memory) {
  const int64_t count = static_cast<int64_t>(rows.size());
  const Tensor indices = rows_buffer_.view(be, Shape{count}, DType::i32);
  be.upload(Tensor::view(const_cast<int32_t*>(rows.data()), indices.shape(), DType::i32), indices);
  move_self_caches(be, indices, layers_.front().self.keys.shape()[2]);
  if (what != RowSelection::everything) return;

  // The memory rows the new rows read. Additive attention scores keys per row (its kernel takes
  // one key row per query row), so its memory keeps a row per beam.
  const int64_t group = model_.config().attention == AttentionScore::additive ? 1 : rows_per_memory;
  HEED_CHECK(group >= 1 && count % group == 0, "select_rows: {} rows do not split into runs of {}", count, group);
  memory_rows_.clear();
  for (int64_t g = 0; g < count / group; ++g) {
    const int32_t memory_row = static_cast<int32_t>(rows[static_cast<size_t>(g * group)] / rows_per_memory_);
    for (int64_t j = 1; j < group; ++j)
      HEED_CHECK(rows[static_cast<size_t>(g * group + j)] / rows_per_memory_ == memory_row,
                 "select_rows: rows {} to {} do not come from one sentence", g * group, (g + 1) * group - 1);
    memory_rows_.push_back(memory_row);
  }
  const int64_t memory_count = static_cast<int64_t>(memory_rows_.size());
  const Tensor memory_indices = memory_rows_buffer_.view(be, Shape{memory_count}, DType::i32);
  be.upload(Tensor::view(memory_rows_.data(), memory_indices.shape(), DType::i32), memory_indices);
  // Gathers into the spare buffer, then swaps it with the tensor's own: no copy back.
  const auto gather = [&](Tensor& tensor, Buffer& owner, Buffer& spare) {
    const Tensor target = spare.view(be, tensor.shape().with(0, memory_count), tensor.dtype());
    be.gather_rows(tensor, memory_indices, target);
    std::swap(owner, spare);
    tensor = target;
  };
  for (DecoderLayerCache& layer : layers_) {
    gather(layer.cross.keys, layer.cross.key_buffer, spare_cross_);
    gather(layer.cross.values, layer.cross.value_buffer, spare_cross_);
  }
  gather(source_lengths_, lengths_buffer_, spare_lengths_);
  gather(memory_, memory_buffer_, spare_memory_);
  rows_per_memory_ = group;
}

void IncrementalDecoder::move_self_caches(Backend& be, const Tensor& indices, int64_t capacity) {
  // Only the filled positions are copied. The rest of the target stays as it was: positions
  // beyond `length` are hidden from attention and written before they are read (and finite, as
  // Buffer memory always is, so that probability 0 times them is 0).
  const auto move = [&](Tensor& cache, Buffer& owner, int64_t length) {
    const Tensor target = spare_self_.view(be, Shape{indices.numel(), cache.shape()[1], capacity, cache.shape()[3]});
    be.gather_cache_rows(cache, indices, std::min(length, cache.shape()[2]), target);  // a ring is full once wrapped
    std::swap(owner, spare_self_);
    cache = target;
  };
  for (DecoderLayerCache& layer : layers_) {
    move(layer.self.keys, layer.self.key_buffer, layer.self.length);
    move(layer.self.values, layer.self.value_buffer, layer.self.length);
  }
}

void IncrementalDecoder::grow_caches(Backend& be) {
  const int64_t count = rows();
  same_rows_.resize(static_cast<size_t>(count));
  std::iota(same_rows_.begin(), same_rows_.end(), 0);
  const Tensor indices = rows_buffer_.view(be, Shape{count}, DType::i32);
  be.upload(Tensor::view(same_rows_.data(), indices.shape(), DType::i32), indices);
  move_self_caches(be, indices, std::min(self_cache_limit(), 2 * layers_.front().self.keys.shape()[2]));
}

void IncrementalDecoder::reserve_capacity(Backend& be) {
  for (size_t i = 0; i < layers_.size(); ++i)
    model_.decoder_[i]->reserve_capacity(be, rows(), self_cache_limit(), layers_[i]);
  spare_self_.view(be, layers_.front().self.keys.shape());
}

Tensor IncrementalDecoder::step(Backend& be, const Tensor& host_tokens) {
  const int64_t batch = rows();
  HEED_CHECK(host_tokens.dtype() == DType::i32 && host_tokens.shape() == Shape{batch},
             "decoder step: tokens must be i32 [{}], got {}", batch, host_tokens.describe());
  const Tensor tokens = be.to_device(host_tokens, staging_tokens_);
  const int64_t cached = layers_.front().self.keys.shape()[2];
  if (position_ == cached && cached < self_cache_limit()) grow_caches(be);
  HEED_CHECK(position_ < capacity_, "decoder step: position {} is past the capacity of {} positions", position_,
             capacity_);
  Tensor x = model_.target_embedding_->forward(be, tokens.reshape(Shape{batch, 1}), position_, RunMode{});
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Tensor y = layer_outputs_[i].view(be, x.shape());
    model_.decoder_[i]->step(be, x, layers_[i], VisibleKeys{.lengths = &source_lengths_}, y);
    x = y;
  }
  Tensor hidden = x;
  if (model_.decoder_norm_) {
    hidden = hidden_.view(be, x.shape());
    model_.decoder_norm_->forward(be, x, hidden);
  }
  const Tensor logits = logits_.view(be, Shape{batch, model_.config().target_vocab});
  model_.project_output(be, hidden, logits);
  position_ += 1;
  return logits;
}

}  // namespace heed
