#pragma once
// cuBLASLt's entry points, looked up with dlopen/dlsym when the first CUDA backend is made.
// Linking the library instead costs every heed process ~150 MB of resident memory (measured: a
// dlopen of libcublasLt.so.13 alone takes a process from 1.9 to 153.6 MB), CPU runs of a CUDA
// build included; loaded on demand, only a process that computes on a GPU pays for it.

#include <cublasLt.h>

namespace heed {

struct CublasLtLibrary {
  decltype(&::cublasLtCreate) create = nullptr;
  decltype(&::cublasLtDestroy) destroy = nullptr;
  decltype(&::cublasLtMatmul) matmul = nullptr;
  decltype(&::cublasLtMatmulAlgoGetHeuristic) algo_get_heuristic = nullptr;
  decltype(&::cublasLtMatmulDescCreate) desc_create = nullptr;
  decltype(&::cublasLtMatmulDescDestroy) desc_destroy = nullptr;
  decltype(&::cublasLtMatmulDescSetAttribute) desc_set_attribute = nullptr;
  decltype(&::cublasLtMatmulPreferenceCreate) preference_create = nullptr;
  decltype(&::cublasLtMatmulPreferenceDestroy) preference_destroy = nullptr;
  decltype(&::cublasLtMatmulPreferenceSetAttribute) preference_set_attribute = nullptr;
  decltype(&::cublasLtMatrixLayoutCreate) layout_create = nullptr;
  decltype(&::cublasLtMatrixLayoutDestroy) layout_destroy = nullptr;
  decltype(&::cublasLtMatrixLayoutSetAttribute) layout_set_attribute = nullptr;
};

// The library, loaded on the first call (thread-safe; later calls return the same table). Fails
// naming the library and the loader's reason when it or one of its functions cannot be found.
const CublasLtLibrary& cublaslt();

// Whether this process has mapped cuBLASLt (read from /proc/self/maps): for the test that a CPU
// run of a CUDA build never loads it.
bool cublaslt_is_mapped();

}  // namespace heed
