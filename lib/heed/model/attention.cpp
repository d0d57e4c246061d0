#include "heed/model/attention.h"

#include <cmath>

#include "heed/backend/matmul_backward.h"
#include "heed/core/error.h"

namespace heed {

MultiHeadAttention::MultiHeadAttention(ParameterSet& params, const std::string& name, const ModelConfig& config,
                                       AttentionScratch& scratch)
    : score_(config.attention),
      heads_(config.heads),
      head_dim_(config.head_dim()),
      q_(params, name + ".q", config.model_dim, config.model_dim),
      k_(params, name + ".k", config.model_dim, config.model_dim),
      v_(params, name + ".v", config.model_dim, config.model_dim),
      o_(params, name + ".o", config.model_dim, config.model_dim),
      dropout_(config.attention_dropout, name + ".dropout"),
      scratch_(scratch) {
  if (score_ == AttentionScore::additive)
    additive_v_ = params.add(name + ".additive_v", Shape{heads_, head_dim_}, Init::xavier_uniform);
}

MatmulOptions MultiHeadAttention::score_options() const {
  // Scaled dot-product divides by √dh so that scores keep unit variance as dh grows.
  const float alpha = score_ == AttentionScore::scaled_dot ? 1.0f / std::sqrt(static_cast<float>(head_dim_)) : 1.0f;
  return {.transpose_b = true, .alpha = alpha};
}

Tensor MultiHeadAttention::project_heads(Backend& be, Linear& projection, const Tensor& x, Buffer& heads) {
  const int64_t batch = x.shape()[0], length = x.shape()[1];
  const Tensor projected = scratch_.projected_q.view(be, Shape{batch, length, heads_, head_dim_});
  projection.forward(be, x, projected);
  const Tensor split = heads.view(be, Shape{batch, heads_, length, head_dim_});
  be.swap_axes_12(projected, split);
  return split;
}

void MultiHeadAttention::attend(Backend& be, const Tensor& qh, const Tensor& kh, const Tensor& vh,
                                const VisibleKeys& keys, const Tensor& out, const RunMode& mode) {
  const int64_t batch = qh.shape()[0], queries = qh.shape()[2];
  tiled_ = queries > 1 && score_ != AttentionScore::additive &&
           (mode.attention == AttentionKernel::tiled ||
            (mode.attention == AttentionKernel::automatic && kh.shape()[2] > kTiledFromKeys));
  if (tiled_) {
    // No probabilities: the output heads and each row's log-sum-exp are what backward reads.
    tiled_options_ = {.alpha = score_options().alpha, .visible = keys, .dropout = dropout_.rate(mode), .seed = dropout_.seed(mode),
                      .first = Dropout::first_index(mode, batch * heads_ * queries * kh.shape()[2])};
    tiled_out_ = tiled_out_buffer_.view(be, qh.shape());
    logsumexp_ = logsumexp_buffer_.view(be, Shape{batch, heads_, queries});
    be.attention_forward(qh, kh, vh, tiled_options_, tiled_out_, logsumexp_);
    probs_ = dropped_probs_ = Tensor{};
    const Tensor context = context_.view(be, Shape{batch, queries, heads_, head_dim_});
    be.swap_axes_12(tiled_out_, context);
    o_.forward(be, context.reshape(Shape{batch, queries, heads_ * head_dim_}), out);
    return;
  }
  const Tensor context_heads = scratch_.context_heads.view(be, Shape{batch, heads_, queries, head_dim_});  // [B, H, T, dh]
  probs_ = probs_buffer_.view(be, Shape{batch, heads_, queries, kh.shape()[2]});
  if (queries == 1 && score_ != AttentionScore::additive && !mode.training) {
    // A decoding step: one pass over the visible keys, no scores tensor (Backend::attend_one_query).
    be.attend_one_query(qh, kh, vh, score_options().alpha, keys, probs_, context_heads);
    dropped_probs_ = probs_;
  } else {
    const Tensor scores = scratch_.scores.view(be, probs_.shape());  // [B, H, T, S]
    if (score_ == AttentionScore::additive)
      be.additive_scores_forward(qh, kh, additive_v_->value, scores);
    else
      be.matmul(qh, kh, scores, score_options());
    be.softmax_forward(scores, probs_, keys);
    dropped_probs_ = dropout_.forward(be, probs_, mode);
    be.matmul(dropped_probs_, vh, context_heads);
  }
  const Tensor context = context_.view(be, Shape{batch, queries, heads_, head_dim_});  // [B, T, H, dh] = [B, T, D]
  be.swap_axes_12(context_heads, context);
  o_.forward(be, context.reshape(Shape{batch, queries, heads_ * head_dim_}), out);
}

void MultiHeadAttention::forward(Backend& be, const Tensor& x_q, const Tensor& x_kv, const VisibleKeys& keys,
                                 const Tensor& out, const RunMode& mode) {
  qh_ = project_heads(be, q_, x_q, qh_buffer_);
  kh_ = project_heads(be, k_, x_kv, kh_buffer_);
  vh_ = project_heads(be, v_, x_kv, vh_buffer_);
  attend(be, qh_, kh_, vh_, keys, out, mode);
}

void MultiHeadAttention::add_probability_gradient(Backend& be, const ProbabilityGradient& extra, const Tensor& d_probs) {
  const int64_t batch = d_probs.shape()[0], per_head = d_probs.shape()[2] * d_probs.shape()[3];
  HEED_CHECK(extra.d->shape() == Shape({batch, d_probs.shape()[2], d_probs.shape()[3]}),
             "attention: an extra gradient {} for probabilities {}", extra.d->shape().str(), d_probs.shape().str());
  // Row b·H + head of d_probs as [B·H, T·S] is that head's gradient for sequence b.
  const Tensor heads = d_probs.reshape(Shape{batch * heads_, per_head});
  const Tensor d = extra.d->reshape(Shape{batch, per_head});
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t row = b * heads_ + extra.head;
    be.axpy(extra.scale, d.slice_rows(b, b + 1), heads.slice_rows(row, row + 1));
  }
}

void MultiHeadAttention::backward(Backend& be, const Tensor& d_out, const Tensor& dx_q, Accumulate acc_q,
                                  const Tensor& dx_kv, Accumulate acc_kv, const ProbabilityGradient& extra) {
  const int64_t batch = qh_.shape()[0], queries = qh_.shape()[2];
  const Tensor d_context = scratch_.d_context.view(be, Shape{batch, queries, heads_, head_dim_});
  o_.backward(be, d_out, d_context.reshape(Shape{batch, queries, heads_ * head_dim_}), Accumulate::no);
  const Tensor d_context_heads = scratch_.d_context_heads.view(be, qh_.shape());
  be.swap_axes_12(d_context, d_context_heads);

  if (tiled_) {
    HEED_CHECK(extra.d == nullptr, "attention: a gradient for probabilities the tiled kernel never held");
    const Tensor d_qh = scratch_.d_qh.view(be, qh_.shape());
    const Tensor d_kh = scratch_.d_kh.view(be, kh_.shape());
    const Tensor d_vh = scratch_.d_vh.view(be, vh_.shape());
    be.attention_backward(qh_, kh_, vh_, tiled_out_, logsumexp_, d_context_heads, tiled_options_, d_qh, d_kh, d_vh);
    through_projections(be, d_qh, d_kh, d_vh, dx_q, acc_q, dx_kv, acc_kv);
    return;
  }

  // context = dropped_probs · vh
  const Tensor d_dropped = scratch_.d_dropped.view(be, probs_.shape());
  const Tensor d_vh = scratch_.d_vh.zeros(be, vh_.shape());
  matmul_backward(be, dropped_probs_, vh_, d_context_heads, {}, {.da = &d_dropped, .db = &d_vh});
  const Tensor d_probs = dropout_.backward(be, d_dropped, scratch_.d_probs);
  if (extra.d != nullptr) add_probability_gradient(be, extra, d_probs);
  const Tensor d_scores = scratch_.d_scores.view(be, probs_.shape());
  be.softmax_backward(probs_, d_probs, d_scores, Accumulate::no);

  const Tensor d_qh = scratch_.d_qh.view(be, qh_.shape());
  const Tensor d_kh = scratch_.d_kh.zeros(be, kh_.shape());
  if (score_ == AttentionScore::additive)
    be.additive_scores_backward(qh_, kh_, additive_v_->value, d_scores, d_qh, d_kh, additive_v_->grad, Accumulate::no);
  else
    matmul_backward(be, qh_, kh_, d_scores, score_options(), {.da = &d_qh, .db = &d_kh});

  through_projections(be, d_qh, d_kh, d_vh, dx_q, acc_q, dx_kv, acc_kv);
}

void MultiHeadAttention::through_projections(Backend& be, const Tensor& d_qh, const Tensor& d_kh, const Tensor& d_vh,
                                             const Tensor& dx_q, Accumulate acc_q, const Tensor& dx_kv, Accumulate acc_kv) {
  // Merge each head gradient back to [B, L, D] and through its projection. One flat buffer
  // serves q, k and v in turn: each is consumed before the next is written.
  const int64_t batch = d_qh.shape()[0];
  const auto through = [&](Linear& projection, const Tensor& d_heads, const Tensor& dx, Accumulate acc) {
    const int64_t length = d_heads.shape()[2];
    const Tensor d_flat = scratch_.d_flat.view(be, Shape{batch, length, heads_, head_dim_});
    be.swap_axes_12(d_heads, d_flat);
    projection.backward(be, d_flat.reshape(Shape{batch, length, heads_ * head_dim_}), dx, acc);
  };
  through(q_, d_qh, dx_q, acc_q);
  through(k_, d_kh, dx_kv, acc_kv);
  through(v_, d_vh, dx_kv, Accumulate::yes);
}

void MultiHeadAttention::project_memory(Backend& be, const Tensor& memory, AttentionCache& cache) {
  const int64_t batch = memory.shape()[0], length = memory.shape()[1];
  const Shape shape{batch, heads_, length, head_dim_};
  cache.keys = cache.key_buffer.view(be, shape);
  cache.values = cache.value_buffer.view(be, shape);
  const Tensor projected = scratch_.projected_k.view(be, Shape{batch, length, heads_, head_dim_});
  k_.forward(be, memory, projected);
  be.swap_axes_12(projected, cache.keys);
  v_.forward(be, memory, projected);
  be.swap_axes_12(projected, cache.values);
  cache.length = length;
}

void MultiHeadAttention::start_cache(Backend& be, int64_t batch, int64_t capacity, AttentionCache& cache) const {
  // Zeroed: unfilled positions are multiplied by probability 0, which must not meet a NaN.
  cache.keys = cache.key_buffer.zeros(be, Shape{batch, heads_, capacity, head_dim_});
  cache.values = cache.value_buffer.zeros(be, Shape{batch, heads_, capacity, head_dim_});
  cache.length = 0;
}

void MultiHeadAttention::reserve_self_capacity(Backend& be, int64_t rows, int64_t capacity, AttentionCache& cache) {
  const Shape positions{rows, heads_, capacity, head_dim_};
  cache.keys = cache.key_buffer.view(be, positions);
  cache.values = cache.value_buffer.view(be, positions);
  const Shape scores{rows, heads_, 1, capacity};
  if (score_ == AttentionScore::additive) scratch_.scores.view(be, scores);  // others attend in one pass (attend_one_query)
  probs_buffer_.view(be, scores);
}

void MultiHeadAttention::step_self(Backend& be, const Tensor& x, AttentionCache& cache, int64_t window, const Tensor& out) {
  const int64_t batch = x.shape()[0];
  // With one position, [B, 1, H, dh] and [B, H, 1, dh] are the same memory: no head split needed.
  const Shape step_heads{batch, heads_, 1, head_dim_};
  const Tensor q = scratch_.projected_q.view(be, step_heads), k = scratch_.projected_k.view(be, step_heads),
               v = scratch_.projected_v.view(be, step_heads);
  q_.forward(be, x, q.reshape(x.shape()));
  k_.forward(be, x, k.reshape(x.shape()));
  v_.forward(be, x, v.reshape(x.shape()));
  // With a window W the cache may be a ring of W + 1 slots (Transformer::self_cache_limit):
  // position p lives in slot p mod (W + 1), and once the ring has wrapped every slot holds one
  // of the positions p − W .. p the query sees. Attention does not care in which order keys lie.
  const int64_t slots = cache.keys.shape()[2];
  const bool ring = window > 0 && slots == window + 1;
  const int64_t slot = ring ? cache.length % slots : cache.length;
  be.write_time_step(k.reshape(Shape{batch, heads_, head_dim_}), slot, cache.keys);
  be.write_time_step(v.reshape(Shape{batch, heads_, head_dim_}), slot, cache.values);
  // The new query sits at position `length` and sees the keys up to its own (the last W + 1 of
  // them, with a window), as in training.
  const VisibleKeys filled = ring ? VisibleKeys{.causal = true, .first_query = std::min(cache.length, slots - 1)}
                                  : VisibleKeys{.causal = true, .first_query = cache.length, .window = window};
  cache.length += 1;
  attend(be, q, cache.keys, cache.values, filled, out, RunMode{});
}

void MultiHeadAttention::step_cross(Backend& be, const Tensor& x, const AttentionCache& cache,
                                    const VisibleKeys& keys, const Tensor& out) {
  const Tensor q = scratch_.projected_q.view(be, Shape{x.shape()[0], heads_, 1, head_dim_});
  q_.forward(be, x, q.reshape(x.shape()));
  attend(be, q, cache.keys, cache.values, keys, out, RunMode{});
}

}  // namespace heed
