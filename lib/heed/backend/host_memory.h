#pragma once
// HostMemoryBackend: the memory of the backends that compute on the CPU's own memory (oneDNN's,
// the reference, and the tests' adapter of a device backend): host allocations, and copies for
// which upload and download are the same memcpy. Each of them adds only its ops.

#include "heed/backend/backend.h"

namespace heed {

class HostMemoryBackend : public Backend {
 protected:
  HEED_BACKEND_MEMORY_OVERRIDES
  // Large zeroed tensors are fresh pages, untouched until used (Tensor::zeros).
  Tensor do_allocate_zeroed(const Shape& shape, DType dtype) override;
};

}  // namespace heed
