#pragma once
// The memory operations of the backends that run on the CPU (oneDNN's and the reference): host
// allocations, and copies for which upload and download are the same memcpy.

#include "heed/core/tensor.h"

namespace heed::host_memory {

Tensor allocate(const Shape& shape, DType dtype);
Tensor allocate_zeroed(const Shape& shape, DType dtype);  // large ones untouched (Tensor::zeros)
void fill(const Tensor& t, double value);
void copy(const Tensor& src, const Tensor& dst);

}  // namespace heed::host_memory
