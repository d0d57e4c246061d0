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
  void synchronize() override { inner_.synchronize(); }
  bool supports(Precision precision) const override { return inner_.supports(precision); }
  void set_matmul_precision(Precision precision) override {
    inner_.set_matmul_precision(precision);
    Backend::set_matmul_precision(precision);
  }
  void reserve_matmul_scratch(const Tensor& x, const PreparedWeight& w) override { inner_.reserve_matmul_scratch(x, w); }
  void reserve_attention_scratch(const Tensor& q, const Tensor& k) override { inner_.reserve_attention_scratch(q, k); }

  // Ops with at least one call, slowest first.
  std::vector<OpProfile> report() const;
  void reset();

 protected:
  HEED_BACKEND_OVERRIDES
  Tensor do_allocate_zeroed(const Shape& shape, DType dtype) override;
  std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision) override;
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

  Backend& inner_;
  std::array<OpProfile, kOpCount> profile_{};
};

}  // namespace heed
