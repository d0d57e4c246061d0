#pragma once
// Multi-head attention (Vaswani et al. 2017) with a choice of scoring function: scaled
// dot-product, dot-product (Luong et al. 2015) or additive (Bahdanau et al. 2014). Used as
// encoder self-attention, causal decoder self-attention and decoder cross-attention; the
// decoder's incremental step reuses the same core with a key/value cache.

#include <string>

#include "heed/backend/buffer.h"
#include "heed/model/layers.h"

namespace heed {

// The keys and values one layer attends to while decoding step by step.
struct AttentionCache {
  Tensor keys, values;  // [B, H, capacity, dh]
  int64_t length = 0;   // positions written (a ring, with a window, holds the last `capacity` of them)
  Buffer key_buffer, value_buffer;
};

// A loss on the attention itself (guided alignment) for backward to add in: scale · d [B, T, S]
// into the gradient of head `head`'s probabilities.
struct ProbabilityGradient {
  const Tensor* d = nullptr;  // none
  int64_t head = 0;
  float scale = 0.0f;
};

class MultiHeadAttention {
 public:
  MultiHeadAttention(ParameterSet& params, const std::string& name, const ModelConfig& config, AttentionScratch& scratch);

  // out [B, T, D]: queries from x_q [B, T, D] attend over the visible keys and values from
  // x_kv [B, S, D].
  void forward(Backend& be, const Tensor& x_q, const Tensor& x_kv, const VisibleKeys& keys, const Tensor& out,
               const RunMode& mode);
  // For self-attention pass the same tensor as dx_q and dx_kv with acc_kv = Accumulate::yes.
  // `extra`: a gradient for the probabilities themselves (plain kernel only).
  void backward(Backend& be, const Tensor& d_out, const Tensor& dx_q, Accumulate acc_q, const Tensor& dx_kv,
                Accumulate acc_kv, const ProbabilityGradient& extra = {});

  // [B, H, T, S]: attention probabilities of the last forward pass or step, before dropout
  // (alignments are read from the cross-attention's); empty after a tiled forward pass, which
  // never holds them (RunMode::attention).
  const Tensor& probabilities() const { return probs_; }

  // Incremental decoding. Cross-attention: project the encoder output once per batch.
  void project_memory(Backend& be, const Tensor& memory, AttentionCache& cache);
  // Self-attention: an empty cache for up to `capacity` positions.
  void start_cache(Backend& be, int64_t batch, int64_t capacity, AttentionCache& cache) const;
  // Lays out, without writing, the cache and the step's scores for `rows` rows at `capacity`
  // positions: what a step at that capacity needs (the cache must be started again after).
  void reserve_self_capacity(Backend& be, int64_t rows, int64_t capacity, AttentionCache& cache);
  // Self-attention for one new position x [B, 1, D]: stores its key and value at
  // cache.length, then attends over positions 0 .. cache.length.
  void step_self(Backend& be, const Tensor& x, AttentionCache& cache, int64_t window, const Tensor& out);
  // Cross-attention for one position over projected memory.
  void step_cross(Backend& be, const Tensor& x, const AttentionCache& cache, const VisibleKeys& keys, const Tensor& out);

 private:
  // x [B, L, D] -> heads [B, H, L, dh] through `projection`.
  Tensor project_heads(Backend& be, Linear& projection, const Tensor& x, Buffer& heads);
  // scores -> probabilities -> (dropout) -> context -> output projection
  void attend(Backend& be, const Tensor& qh, const Tensor& kh, const Tensor& vh, const VisibleKeys& keys,
              const Tensor& out, const RunMode& mode);
  MatmulOptions score_options() const;
  void add_probability_gradient(Backend& be, const ProbabilityGradient& extra, const Tensor& d_probs);
  // The head gradients [B, H, L, dh] back through the q, k and v projections into dx_q and dx_kv.
  void through_projections(Backend& be, const Tensor& d_qh, const Tensor& d_kh, const Tensor& d_vh, const Tensor& dx_q,
                           Accumulate acc_q, const Tensor& dx_kv, Accumulate acc_kv);

  AttentionScore score_;
  int64_t heads_, head_dim_;
  Linear q_, k_, v_, o_;
  Parameter* additive_v_ = nullptr;  // [H, dh], additive scoring only
  Dropout dropout_;

  // Saved by forward for backward (views of the buffers below).
  Tensor qh_, kh_, vh_, probs_, dropped_probs_;
  Buffer qh_buffer_, kh_buffer_, vh_buffer_, probs_buffer_, context_;
  // The same for a tiled pass: its output heads [B, H, T, dh] and each row's log-sum-exp [B, H, T].
  bool tiled_ = false;
  TiledAttention tiled_options_;
  Tensor tiled_out_, logsumexp_;
  Buffer tiled_out_buffer_, logsumexp_buffer_;
  AttentionScratch& scratch_;  // the rest, shared with the model's other attention layers
};

}  // namespace heed
