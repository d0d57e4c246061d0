#pragma once
// LayoutBackend: wraps another backend, allocates through it and computes nothing. Running a
// model over it lays out every buffer a real run of the same shapes will use (and the backend's
// scratch, through Backend::reserve_*_scratch) at the cost of the bookkeeping alone, so that a
// translator can take all its memory before it decodes a sentence without decoding a dummy
// batch first. Memory is filled, copied, uploaded and downloaded as in a real run, so that
// what a model puts on a device once (a table of positions) is there afterwards; what the ops
// would compute stays unwritten, so nothing run over this backend may read a result.

#include "heed/backend/backend.h"

namespace heed {

class LayoutBackend final : public Backend {
 public:
  explicit LayoutBackend(Backend& inner) : inner_(inner) { matmul_precision_ = inner.matmul_precision(); }
  std::string_view name() const override { return "layout"; }
  Device device() const override { return inner_.device(); }
  bool supports(Precision precision) const override { return inner_.supports(precision); }
  void set_matmul_precision(Precision precision) override {
    inner_.set_matmul_precision(precision);
    Backend::set_matmul_precision(precision);
  }

 protected:
  HEED_BACKEND_OVERRIDES
  Tensor do_allocate_zeroed(const Shape& shape, DType dtype) override;
  std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision) override;
  void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) override;

 private:
  Backend& inner_;
};

}  // namespace heed
