#pragma once
// HEED_HOST_DEVICE marks the few small functions that CUDA kernels call as well as host code
// (dropout's counter-based mask, which keys a query sees), so that both sides compute them from
// one definition and draw the same numbers.

#if defined(__CUDACC__)
#define HEED_HOST_DEVICE __host__ __device__
#else
#define HEED_HOST_DEVICE
#endif
