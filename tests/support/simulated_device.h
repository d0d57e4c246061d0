#pragma once
// A backend that plays a device: its tensors are host memory labelled Device::cuda, so that any
// code reading or writing them on the host (Tensor::data, fill, copy_from) throws, and every
// transfer goes through upload/download as on a real GPU. It computes with the oneDNN backend,
// to which it hands its operands relabelled as host tensors. Running training and translation
// on it proves that model, decoding and training code touch tensor contents only through the
// backend, the contract a CUDA backend relies on.

#include <memory>

#include "heed/backend/backend.h"

namespace heed::test {

class SimulatedDeviceBackend final : public Backend {
 public:
  SimulatedDeviceBackend();
  std::string_view name() const override { return "simulated device"; }
  Device device() const override { return Device::cuda; }
  bool supports(Precision precision) const override { return host_->supports(precision); }
  int32_t int8_input_limit() const override { return host_->int8_input_limit(); }
  void set_matmul_precision(Precision precision) override {
    host_->set_matmul_precision(precision);
    Backend::set_matmul_precision(precision);
  }

 protected:
  HEED_BACKEND_OVERRIDES
  Tensor do_allocate_zeroed(const Shape& shape, DType dtype) override;

 private:
  std::unique_ptr<Backend> host_;  // computes
};

}  // namespace heed::test
