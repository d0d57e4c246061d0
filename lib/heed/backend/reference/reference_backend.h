#pragma once
// ReferenceBackend: every op as the plainest loop that states its formula, accumulating in
// double. Slow on purpose; the tests hold every other backend to it.

#include "heed/backend/backend.h"

namespace heed {

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "reference"; }
  bool supports(Precision) const override { return true; }  // emulated (prepared_matmul.cpp)

 protected:
  HEED_BACKEND_OVERRIDES
  Tensor do_allocate_zeroed(const Shape& shape, DType dtype) override;
  std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision) override;
  void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) override;
};

}  // namespace heed
