#pragma once
// ProfilingBackend: wraps another backend and adds up the wall time and call count of each op,
// so that `heed bench model` can say where a training step's time goes.

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "heed/backend/backend_decorator.h"

namespace heed {

struct OpProfile {
  std::string name;
  int64_t calls = 0;
  double seconds = 0.0;
};

class ProfilingBackend final : public BackendDecorator {
 public:
  using BackendDecorator::BackendDecorator;
  std::string_view name() const override { return "profiling"; }

  // Ops with at least one call, slowest first.
  std::vector<OpProfile> report() const;
  void reset();

 protected:
  HEED_BACKEND_OP_OVERRIDES
  void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) override;

 private:
  enum Op : int {
    matmul, weight_matmul, softmax, softmax_backward, log_softmax, layer_norm, layer_norm_backward,
    activation, activation_backward, dropout, dropout_backward, embedding, embedding_backward, add,
    axpy, sum_rows, sum_squares, swap_axes_12, additive_scores, additive_scores_backward, write_time_step, attend_one_query,
    attention, attention_backward,
    cross_entropy, cross_entropy_backward, adam_update, gather_rows, gather_cache_rows, sequence_lengths, fill, copy, kOpCount
  };
  template <typename F> auto timed(Op op, F&& f);

  std::array<OpProfile, kOpCount> profile_{};
};

}  // namespace heed
