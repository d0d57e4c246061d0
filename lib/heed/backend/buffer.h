#pragma once
// Buffer: grow-only storage on a backend's device that hands out tensors of any shape that
// fits. Layers keep their activations and gradients in Buffers, so a batch of the same or a
// smaller size allocates nothing, and the steady state (training on length-bucketed batches,
// decoding step after step) touches the allocator only when a batch is larger than any before.

#include "heed/core/tensor.h"

namespace heed {

class Backend;

class Buffer {
 public:
  // A tensor of this shape over the buffer's memory, allocated by `be` on its device; the
  // contents are what was last written there, or zeros.
  Tensor view(Backend& be, const Shape& shape, DType dtype = DType::f32);
  // The same, cleared.
  Tensor zeros(Backend& be, const Shape& shape, DType dtype = DType::f32);

 private:
  Tensor storage_;
};

}  // namespace heed
