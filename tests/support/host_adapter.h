#pragma once
// HostAdapter: a device backend seen from the host. Its tensors are host memory; each op copies
// its operands to the device, runs the device backend's op, and copies what the op writes back.
// It lets the suites written for host tensors (ops against the reference, finite differences,
// tiled attention) check a device backend unchanged: HEED_TEST_DEVICE=cuda runs them on the GPU
// (tools/gpu-check), HEED_TEST_DEVICE=simulated on the simulated device, which checks the adapter
// itself on any machine.

#include <memory>
#include <utility>
#include <vector>

#include "heed/backend/host_memory.h"

namespace heed::test {

class HostAdapter final : public HostMemoryBackend {
 public:
  explicit HostAdapter(std::unique_ptr<Backend> device);
  std::string_view name() const override { return device_->name(); }
  bool supports(Precision precision) const override { return device_->supports(precision); }
  int32_t int8_input_limit() const override { return device_->int8_input_limit(); }
  void set_matmul_precision(Precision precision) override {
    device_->set_matmul_precision(precision);
    Backend::set_matmul_precision(precision);
  }

 protected:
  HEED_BACKEND_COMPUTE_OVERRIDES

 private:
  Tensor in(const Tensor& host);   // a device copy of an operand (undefined stays undefined)
  Tensor out(const Tensor& host);  // the same, copied back by written()
  void written();                  // copies every out() back to the host

  std::unique_ptr<Backend> device_;
  std::vector<std::pair<Tensor, Tensor>> outputs_;  // host, device
};

}  // namespace heed::test
