#pragma once
// BackendDecorator: the base of a backend that wraps another to change how its ops run
// (profiling_backend.h times them, layout_backend.h skips them). What describes the wrapped
// backend rather than computes — its device, its kernels, its matmul precision, its scratch —
// passes through here, so that each decorator states only what it changes.

#include "heed/backend/backend.h"

namespace heed {

class BackendDecorator : public Backend {
 public:
  explicit BackendDecorator(Backend& inner) : inner_(inner) { matmul_precision_ = inner.matmul_precision(); }
  Device device() const override { return inner_.device(); }
  void synchronize() override { inner_.synchronize(); }
  bool supports(Precision precision) const override { return inner_.supports(precision); }
  int32_t int8_input_limit() const override { return inner_.int8_input_limit(); }
  double matmul_speedup(Precision precision) override { return inner_.matmul_speedup(precision); }
  void set_matmul_precision(Precision precision) override {
    inner_.set_matmul_precision(precision);
    Backend::set_matmul_precision(precision);
  }
  void reserve_matmul_scratch(const Tensor& x, const PreparedWeight& w) override { inner_.reserve_matmul_scratch(x, w); }
  void reserve_attention_scratch(const Tensor& q, const Tensor& k) override { inner_.reserve_attention_scratch(q, k); }

 protected:
  // Memory and prepared weights are the wrapped backend's own.
  Tensor do_allocate(const Shape& shape, DType dtype) override { return inner_.allocate(shape, dtype); }
  Tensor do_allocate_zeroed(const Shape& shape, DType dtype) override { return inner_.allocate_zeroed(shape, dtype); }
  std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision) override {
    return inner_.prepare_weight(w, transposed, precision);
  }

  Backend& inner_;
};

}  // namespace heed
