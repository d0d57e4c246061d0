#pragma once
// Buffer: grow-only storage that hands out tensors of any shape that fits. Layers keep their
// activations and gradients in Buffers, so a batch of the same or a smaller size allocates
// nothing, and the steady state (training on length-bucketed batches, decoding step after
// step) touches the heap only when a batch is larger than any before it.

#include "heed/core/tensor.h"

namespace heed {

class Buffer {
 public:
  // A tensor of this shape over the buffer's memory; the contents are what was last written
  // there, or zeros.
  Tensor view(const Shape& shape, DType dtype = DType::f32) {
    const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
    if (storage_.raw() == nullptr || storage_.bytes() < bytes) {
      // Grow by at least half again, so a slowly growing shape reallocates rarely.
      const size_t grown = std::max(bytes, storage_.raw() ? storage_.bytes() * 3 / 2 : bytes);
      // Zeroed once when allocated: a buffer never hands out uninitialised memory, so bytes
      // a caller views but has not written (a cache's unfilled positions) are finite.
      storage_ = Tensor::zeros(Shape{static_cast<int64_t>(grown)}, DType::u8);
    }
    return Tensor::view(storage_.raw(), shape, dtype);
  }
  Tensor zeros(const Shape& shape, DType dtype = DType::f32) {
    Tensor t = view(shape, dtype);
    t.zero();
    return t;
  }

 private:
  Tensor storage_;
};

}  // namespace heed
