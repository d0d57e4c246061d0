#pragma once
// LayoutBackend: wraps another backend, allocates through it and computes nothing. Running a
// model over it lays out every buffer a real run of the same shapes will use (and the backend's
// scratch, through Backend::reserve_*_scratch) at the cost of the bookkeeping alone, so that a
// translator can take all its memory before it decodes a sentence without decoding a dummy
// batch first. Memory is filled, copied, uploaded and downloaded as in a real run, so that
// what a model puts on a device once (a table of positions) is there afterwards; what the ops
// would compute stays unwritten, so nothing run over this backend may read a result.

#include "heed/backend/backend_decorator.h"

namespace heed {

class LayoutBackend final : public BackendDecorator {
 public:
  using BackendDecorator::BackendDecorator;
  std::string_view name() const override { return "layout"; }

 protected:
  HEED_BACKEND_OP_OVERRIDES
  void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) override;
};

}  // namespace heed
