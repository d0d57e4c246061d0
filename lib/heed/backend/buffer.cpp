#include "heed/backend/buffer.h"

#include <algorithm>

#include "heed/backend/backend.h"

namespace heed {

Tensor Buffer::view(Backend& be, const Shape& shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  if (storage_.raw() == nullptr || storage_.bytes() < bytes || storage_.device() != be.device()) {
    // Grow by at least half again, so a slowly growing shape reallocates rarely.
    const bool regrow = storage_.raw() != nullptr && storage_.device() == be.device();
    const size_t grown = std::max(bytes, regrow ? storage_.bytes() * 3 / 2 : bytes);
    storage_ = Tensor();  // release the old memory before taking the new
    // Zeroed once when allocated: a buffer never hands out uninitialised memory, so bytes a
    // caller views but has not written (a cache's unfilled positions) are finite. (Fresh host
    // pages are zero without being written: a buffer costs memory only as it is used.)
    storage_ = be.allocate_zeroed(Shape{static_cast<int64_t>(grown)}, DType::u8);
  }
  return Tensor::view(storage_.raw(), shape, dtype, storage_.device());
}

Tensor Buffer::zeros(Backend& be, const Shape& shape, DType dtype) {
  Tensor t = view(be, shape, dtype);
  be.fill(t, 0.0);
  return t;
}

}  // namespace heed
