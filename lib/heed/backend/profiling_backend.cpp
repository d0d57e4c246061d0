#include "heed/backend/profiling_backend.h"

#include <algorithm>

namespace heed {

// On a GPU each op waits for its kernels before its clock stops (a queue of launches would
// otherwise be charged to whichever op first reads memory back).
template <typename F>
auto ProfilingBackend::timed(Op op, F&& f) {
  inner_.synchronize();
  const auto start = std::chrono::steady_clock::now();
  struct Record {
    Backend& inner;
    OpProfile& entry;
    std::chrono::steady_clock::time_point start;
    ~Record() {
      inner.synchronize();
      entry.calls += 1;
      entry.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  } record{inner_, profile_[op], start};
  return f();
}

void ProfilingBackend::do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  timed(matmul, [&] { return inner_.matmul(a, b, c, o); });
}

// Products with prepared weights are counted apart from the matmuls of two activations
// (attention's).
void ProfilingBackend::do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) {
  timed(weight_matmul, [&] { return inner_.matmul(x, w, bias, y); });
}

// Memory operations pass through untimed (allocation in BackendDecorator), except copies and
// fills (kernels on a device).
void ProfilingBackend::do_fill(const Tensor& t, double value) { timed(fill, [&] { return inner_.fill(t, value); }); }
void ProfilingBackend::do_copy(const Tensor& src, const Tensor& dst) { timed(copy, [&] { return inner_.copy(src, dst); }); }
void ProfilingBackend::do_upload(const Tensor& host, const Tensor& dst) { inner_.upload(host, dst); }
void ProfilingBackend::do_download(const Tensor& src, const Tensor& host) { inner_.download(src, host); }

void ProfilingBackend::do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) {
  timed(softmax, [&] { return inner_.softmax_forward(x, y, keys); });
}

void ProfilingBackend::do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  timed(softmax_backward, [&] { return inner_.softmax_backward(y, dy, dx, acc); });
}

void ProfilingBackend::do_log_softmax_forward(const Tensor& x, const Tensor& y) {
  timed(log_softmax, [&] { return inner_.log_softmax_forward(x, y); });
}

void ProfilingBackend::do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, const Tensor& y, const Tensor& mean, const Tensor& var) {
  timed(layer_norm, [&] { return inner_.layer_norm_forward(x, gamma, beta, eps, y, mean, var); });
}

void ProfilingBackend::do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& mean, const Tensor& var, float eps, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, Accumulate acc) {
  timed(layer_norm_backward, [&] { return inner_.layer_norm_backward(x, dy, gamma, mean, var, eps, dx, dgamma, dbeta, acc); });
}

void ProfilingBackend::do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  timed(activation, [&] { return inner_.activation_forward(kind, x, y); });
}

void ProfilingBackend::do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  timed(activation_backward, [&] { return inner_.activation_backward(kind, x, dy, dx, acc); });
}

void ProfilingBackend::do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) {
  timed(dropout, [&] { return inner_.dropout_forward(x, p, seed, y, first); });
}

void ProfilingBackend::do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc, uint64_t first) {
  timed(dropout_backward, [&] { return inner_.dropout_backward(dy, p, seed, dx, acc, first); });
}

void ProfilingBackend::do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y) {
  timed(embedding, [&] { return inner_.embedding_forward(table, ids, scale, y); });
}

void ProfilingBackend::do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) {
  timed(embedding_backward, [&] { return inner_.embedding_backward(ids, dy, scale, dtable); });
}

void ProfilingBackend::do_add(const Tensor& a, const Tensor& b, const Tensor& c) {
  timed(add, [&] { return inner_.add(a, b, c); });
}

void ProfilingBackend::do_axpy(float alpha, const Tensor& x, const Tensor& y) {
  timed(axpy, [&] { return inner_.axpy(alpha, x, y); });
}

void ProfilingBackend::do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) {
  timed(sum_rows, [&] { return inner_.sum_rows(x, y, acc); });
}

double ProfilingBackend::do_sum_squares(const Tensor& x) {
  return timed(sum_squares, [&] { return inner_.sum_squares(x); });
}

void ProfilingBackend::do_swap_axes_12(const Tensor& x, const Tensor& y) {
  timed(swap_axes_12, [&] { return inner_.swap_axes_12(x, y); });
}

void ProfilingBackend::do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& scores) {
  timed(additive_scores, [&] { return inner_.additive_scores_forward(q, k, v, scores); });
}

void ProfilingBackend::do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores, const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc) {
  timed(additive_scores_backward, [&] { return inner_.additive_scores_backward(q, k, v, dscores, dq, dk, dv, acc); });
}

void ProfilingBackend::do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                                           const VisibleKeys& visible, const Tensor& probs, const Tensor& out) {
  timed(attend_one_query, [&] { return inner_.attend_one_query(q, keys, values, alpha, visible, probs, out); });
}

void ProfilingBackend::do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                                            const Tensor& out, const Tensor& logsumexp) {
  timed(attention, [&] { return inner_.attention_forward(q, k, v, a, out, logsumexp); });
}

void ProfilingBackend::do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                             const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a,
                                             const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  timed(attention_backward, [&] { return inner_.attention_backward(q, k, v, out, logsumexp, d_out, a, dq, dk, dv); });
}

void ProfilingBackend::do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) {
  timed(write_time_step, [&] { return inner_.write_time_step(step, position, cache); });
}

LossSums ProfilingBackend::do_cross_entropy_forward(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options, const Tensor& log_probs) {
  return timed(cross_entropy, [&] { return inner_.cross_entropy_forward(logits, targets, options, log_probs); });
}

void ProfilingBackend::do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets, const CrossEntropyOptions& options, float grad_scale, const Tensor& dlogits, Accumulate acc) {
  timed(cross_entropy_backward, [&] { return inner_.cross_entropy_backward(log_probs, targets, options, grad_scale, dlogits, acc); });
}

void ProfilingBackend::do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                                      const AdamStep& step) {
  timed(adam_update, [&] { return inner_.adam_update(params, grads, m, v, step); });
}

void ProfilingBackend::do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) {
  timed(sequence_lengths, [&] { return inner_.sequence_lengths(ids, pad_id, lengths); });
}

void ProfilingBackend::do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) {
  timed(gather_rows, [&] { return inner_.gather_rows(src, rows, dst); });
}

void ProfilingBackend::do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) {
  timed(gather_cache_rows, [&] { return inner_.gather_cache_rows(src, rows, length, dst); });
}

std::vector<OpProfile> ProfilingBackend::report() const {
  static constexpr const char* kNames[kOpCount] = {
      "matmul", "matmul (prepared weights)", "softmax", "softmax_backward", "log_softmax", "layer_norm", "layer_norm_backward", "activation", "activation_backward", "dropout", "dropout_backward", "embedding", "embedding_backward", "add", "axpy", "sum_rows", "sum_squares", "swap_axes_12", "additive_scores", "additive_scores_backward", "write_time_step", "attend_one_query", "attention (tiled)", "attention_backward (tiled)", "cross_entropy", "cross_entropy_backward", "adam_update", "gather_rows", "gather_cache_rows", "sequence_lengths", "fill", "copy"};
  std::vector<OpProfile> ops;
  for (int i = 0; i < kOpCount; ++i) {
    if (profile_[i].calls == 0) continue;
    OpProfile p = profile_[i];
    p.name = kNames[i];
    ops.push_back(p);
  }
  std::sort(ops.begin(), ops.end(), [](const OpProfile& a, const OpProfile& b) { return a.seconds > b.seconds; });
  return ops;
}

void ProfilingBackend::reset() { profile_ = {}; }

}  // namespace heed
