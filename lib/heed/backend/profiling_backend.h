#pragma once
// ProfilingBackend: wraps another backend and adds up the wall time and call count of each op,
// so that `heed bench model` can say where a training step's time goes.

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "heed/backend/backend.h"

namespace heed {

struct OpProfile {
  std::string name;
  int64_t calls = 0;
  double seconds = 0.0;
};

class ProfilingBackend final : public Backend {
 public:
  explicit ProfilingBackend(Backend& inner) : inner_(inner) {}
  std::string_view name() const override { return "profiling"; }
  Device device() const override { return inner_.device(); }

  // Ops with at least one call, slowest first.
  std::vector<OpProfile> report() const;
  void reset();

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
  enum Op : int {
    matmul, softmax, softmax_backward, log_softmax, log_softmax_backward, layer_norm, layer_norm_backward,
    activation, activation_backward, dropout, dropout_backward, embedding, embedding_backward, add, scale,
    axpy, sum_rows, sum_squares, swap_axes_12, additive_scores, additive_scores_backward, write_time_step,
    cross_entropy, cross_entropy_backward, adam_update, gather_rows, gather_cache_rows, kOpCount
  };
  template <typename F> auto timed(Op op, F&& f);

  Backend& inner_;
  std::array<OpProfile, kOpCount> profile_{};
};

}  // namespace heed
