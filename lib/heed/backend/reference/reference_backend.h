#pragma once
// ReferenceBackend: every op as the plainest loop that states its formula, accumulating in
// double. Slow on purpose; the tests hold every other backend to it.

#include "heed/backend/host_memory.h"

namespace heed {

class ReferenceBackend final : public HostMemoryBackend {
 public:
  // int8_input_limit: the int8 arithmetic to state (prepared_weight.h); a test that holds a
  // backend to this one passes that backend's.
  explicit ReferenceBackend(int32_t int8_input_limit = kInt8FullInputLimit) : int8_input_limit_(int8_input_limit) {}
  std::string_view name() const override { return "reference"; }
  bool supports(Precision) const override { return true; }  // emulated (prepared_matmul.cpp)
  int32_t int8_input_limit() const override { return int8_input_limit_; }

 protected:
  HEED_BACKEND_COMPUTE_OVERRIDES
  std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision) override;
  void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) override;

 private:
  int32_t int8_input_limit_;
};

}  // namespace heed
