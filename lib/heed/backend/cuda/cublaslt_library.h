#pragma once
// cuBLASLt's entry points, looked up with dlopen/dlsym when the first CUDA backend is made.
// Linking the library instead costs every heed process its mapping, over a hundred MB of resident
// memory, CPU runs of a CUDA build included; loaded on demand, only a process that computes on a GPU pays for it.

#include <cublasLt.h>

namespace heed {

// The functions heed calls, each a member of CublasLtLibrary under its own name.
#define HEED_CUBLASLT_FUNCTIONS(X) \
  X(cublasLtCreate) \
  X(cublasLtDestroy) \
  X(cublasLtMatmul) \
  X(cublasLtMatmulAlgoGetHeuristic) \
  X(cublasLtMatmulDescCreate) \
  X(cublasLtMatmulDescDestroy) \
  X(cublasLtMatmulDescSetAttribute) \
  X(cublasLtMatmulPreferenceCreate) \
  X(cublasLtMatmulPreferenceDestroy) \
  X(cublasLtMatmulPreferenceSetAttribute) \
  X(cublasLtMatrixLayoutCreate) \
  X(cublasLtMatrixLayoutDestroy) \
  X(cublasLtMatrixLayoutSetAttribute)

struct CublasLtLibrary {
#define HEED_CUBLASLT_MEMBER(name) decltype(&::name) name = nullptr;
  HEED_CUBLASLT_FUNCTIONS(HEED_CUBLASLT_MEMBER)
#undef HEED_CUBLASLT_MEMBER
};

// The library, loaded on the first call (thread-safe; later calls return the same table). Fails
// naming the library and the loader's reason when it or one of its functions cannot be found.
const CublasLtLibrary& cublaslt();

// Whether this process has mapped cuBLASLt (read from /proc/self/maps): for the test that a CPU
// run of a CUDA build never loads it.
bool cublaslt_is_mapped();

}  // namespace heed
