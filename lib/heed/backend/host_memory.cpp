#include "heed/backend/host_memory.h"

#include <algorithm>
#include <cstring>

namespace heed {

Tensor HostMemoryBackend::do_allocate(const Shape& shape, DType dtype) { return Tensor::empty(shape, dtype); }
Tensor HostMemoryBackend::do_allocate_zeroed(const Shape& shape, DType dtype) { return Tensor::zeros(shape, dtype); }

void HostMemoryBackend::do_fill(const Tensor& t, double value) {
  if (value == 0.0) return t.zero();
  switch (t.dtype()) {
    case DType::f32: return t.fill(static_cast<float>(value));
    case DType::i32: {
      int32_t* p = t.data<int32_t>();
      std::fill(p, p + t.numel(), static_cast<int32_t>(value));
      return;
    }
    default: {  // u8 (the backend checked the dtype)
      uint8_t* p = t.data<uint8_t>();
      std::fill(p, p + t.numel(), static_cast<uint8_t>(value));
      return;
    }
  }
}

void HostMemoryBackend::do_copy(const Tensor& src, const Tensor& dst) { std::memmove(dst.raw(), src.raw(), src.bytes()); }
void HostMemoryBackend::do_upload(const Tensor& host, const Tensor& dst) { do_copy(host, dst); }
void HostMemoryBackend::do_download(const Tensor& src, const Tensor& host) { do_copy(src, host); }

}  // namespace heed
