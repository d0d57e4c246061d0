#pragma once
// OneDnnBackend: the CPU backend. Matmul, softmax, layer norm, activations, broadcast add and
// reductions run as oneDNN primitives from a PrimitiveCache; the few ops oneDNN has no
// primitive for (dropout, embedding gather/scatter, the loss's row sums, axpy) are OpenMP loops.

#include <memory>

#include "heed/backend/backend.h"

namespace heed {

struct PrimitiveCacheStats {
  size_t entries = 0;
  int64_t hits = 0;
  int64_t misses = 0;
};

class OneDnnBackend final : public Backend {
 public:
  OneDnnBackend();
  ~OneDnnBackend() override;
  std::string_view name() const override { return "onednn"; }

  PrimitiveCacheStats cache_stats() const;
  void clear_cache();
  void set_cache_capacity(size_t primitives);
  // oneDNN keeps its own process-wide cache of compiled kernels beneath ours; benchmarks set
  // it to 0 to measure a cold creation.
  static void set_library_cache_capacity(int capacity);

 protected:
  void do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) override;
  void do_softmax_forward(const Tensor& x, const Tensor* mask, const Tensor& y) override;
  void do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) override;
  void do_log_softmax_forward(const Tensor& x, const Tensor& y) override;
  void do_log_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) override;
  void do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                             const Tensor& y, const Tensor& mean, const Tensor& var) override;
  void do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& mean,
                              const Tensor& var, float eps, const Tensor& dx, const Tensor& dgamma,
                              const Tensor& dbeta, Accumulate acc) override;
  void do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) override;
  void do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                              Accumulate acc) override;
  void do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y) override;
  void do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc) override;
  void do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y) override;
  void do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) override;
  void do_add(const Tensor& a, const Tensor& b, const Tensor& c) override;
  void do_scale(const Tensor& x, float alpha, const Tensor& y) override;
  void do_axpy(float alpha, const Tensor& x, const Tensor& y) override;
  void do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) override;
  double do_sum_squares(const Tensor& x) override;
  void do_swap_axes_12(const Tensor& x, const Tensor& y) override;
  void do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                                  const Tensor& scores) override;
  void do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores,
                                   const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc) override;
  void do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) override;
  void do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) override;
  void do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) override;
  void do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                      const AdamStep& step) override;
  LossSums do_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                    const CrossEntropyOptions& options, const Tensor& log_probs) override;
  void do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                 const CrossEntropyOptions& options, float grad_scale, const Tensor& dlogits,
                                 Accumulate acc) override;

 private:
  struct State;  // oneDNN engine, stream, cache and scratch: kept out of this header
  void softmax_backward_impl(bool log, const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc);
  float* gradient_buffer(const Tensor& dx, Accumulate acc);
  void finish_gradient(const Tensor& dx, Accumulate acc);

  std::unique_ptr<State> state_;
};

}  // namespace heed
