#pragma once
// IncrementalDecoder: a Transformer translating one target position at a time, as search does.
// The source is encoded once; each step embeds one token per row, runs the decoder layers over
// their caches and projects to logits; rows are reordered as beams move on. The Transformer holds
// the weights and training's forward and backward passes; this holds one batch's decoding state
// (the encoder output, its lengths, the caches) and the steps over it.
//
// The decoder's rows (beams) share memory rows: rows [m·r, (m+1)·r) read memory row m, where r is
// rows_per_memory (1 until beam search expands each sentence into its beams). The memory, its
// lengths and the cross-attention caches hold one row per sentence, not per beam: at beam 4 a
// quarter of the memory, and of what a step's cross-attention reads.

#include <cstdint>
#include <vector>

#include "heed/model/transformer.h"

namespace heed {

// Which parts of a decoding state follow a new row order.
enum class RowSelection : uint8_t {
  self_attention,  // beams of the same sentences reordered: only the self-attention caches differ
  everything,      // sentences expanded into beams or dropped: the memory rows too
};

class IncrementalDecoder {
 public:
  // Decodes with `model`'s weights, which must outlive it.
  explicit IncrementalDecoder(Transformer& model);

  // Encodes source [B, S] (i32, eos and padding included; a host tensor is moved to the backend's
  // device) and starts B rows at position 0, for at most `capacity` target positions.
  void start(Backend& be, const Tensor& source, int64_t capacity);
  // tokens [rows()] (i32) at position() -> logits [rows(), V] (a view, valid until the next call).
  Tensor step(Backend& be, const Tensor& tokens);

  // Row i of the new state is row rows[i] of the old one: beam search expands sentences into
  // beams, follows each beam's parent, and drops finished sentences. With `everything`, each run of
  // `rows_per_memory` new rows must come from one old memory row, which they then share.
  void select_rows(Backend& be, const std::vector<int32_t>& rows, RowSelection what, int64_t rows_per_memory = 1);

  // The memory plan of what grows as decoding goes on: lays out, without writing (fresh memory
  // costs nothing until used), the self-attention caches, their gather target and the step's
  // scores at the state's whole capacity. Run in a layout pass after one step and a select_rows,
  // every buffer that decoding this batch to its length limit needs is then held. Start again after.
  void reserve_capacity(Backend& be);

  int64_t rows() const { return source_lengths_.shape()[0] * rows_per_memory_; }
  int64_t position() const { return position_; }
  const Tensor& memory() const { return memory_; }  // [sentences, S, D]: the encoder's output
  const std::vector<DecoderLayerCache>& layer_caches() const { return layers_; }
  const Transformer& model() const { return model_; }

 private:
  // Each self-attention cache's rows `indices` move into the spare buffer, at `capacity`
  // positions, which then becomes the cache's own buffer (no copy back).
  void move_self_caches(Backend& be, const Tensor& indices, int64_t capacity);
  // Before a step at a full cache: each self-attention cache moves into one twice as large.
  void grow_caches(Backend& be);
  int64_t self_cache_limit() const;  // positions a self-attention cache holds at most

  static constexpr int64_t kFirstCacheCapacity = 16;  // positions; doubled as decoding goes on
  static constexpr int64_t kEncoderChunk = 16;        // sentences the encoder runs at once

  Transformer& model_;
  Tensor memory_;          // [M, S, D]
  Tensor source_lengths_;  // i32 [M]: the memory positions each sentence's queries see
  int64_t rows_per_memory_ = 1;
  std::vector<DecoderLayerCache> layers_;
  int64_t position_ = 0;  // the next target position
  int64_t capacity_ = 0;  // the most target positions this batch may decode; the self-attention
                          // caches hold fewer at first and double when full (most sentences end
                          // well before the limit, and attention reads the whole cache)
  Buffer memory_buffer_, lengths_buffer_;
  // Gather targets, swapped in after each select: one per kind of tensor, so that each circulates
  // among tensors of one size. (A single spare passed through every cache would leave every
  // buffer it visits as large as the largest tensor of all.)
  Buffer spare_self_, spare_cross_, spare_memory_, spare_lengths_, rows_buffer_, memory_rows_buffer_;
  std::vector<int32_t> memory_rows_;  // select_rows' scratch
  std::vector<int32_t> same_rows_;    // grow_caches' scratch
  // A step's activations: each layer's output, the final norm's, the logits; the tokens' staging.
  std::vector<Buffer> layer_outputs_;
  Buffer hidden_, logits_;
  Tensor staging_tokens_;
};

}  // namespace heed
