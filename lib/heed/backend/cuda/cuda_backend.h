#pragma once
// The CUDA backend (NVIDIA GPUs): cuBLASLt for the matmuls, heed's own kernels for the rest
// (kernels.h), device memory from a caching allocator, one stream per backend. Built when CMake
// finds the CUDA toolkit (HEED_CUDA); this header holds no CUDA type, so the rest of heed
// compiles the same either way.

#include <memory>
#include <string>

#include "heed/backend/backend.h"

namespace heed {

struct CudaOptions {
  int device = 0;      // cuda:N
  bool tf32 = false;   // f32 matmuls may use TF32 tensor cores (10-bit mantissas)
};

// Throws an Error naming the device when it does not exist or cannot be used.
std::unique_ptr<Backend> make_cuda_backend(const CudaOptions& options);

// GPUs the CUDA runtime sees (0 without a driver or a GPU), and one line about each.
int cuda_device_count();
std::string cuda_device_description(int device);

}  // namespace heed
