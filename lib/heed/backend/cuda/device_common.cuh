#pragma once
// What the CUDA kernels share: launch sizes, warp and block reductions, and which keys a query
// sees (key_ranges.h, the same definition the CPU backends use).

#include <cstdint>

#include "heed/backend/cuda/kernels.h"
#include "heed/backend/key_ranges.h"

namespace heed::cuda {

inline constexpr int kBlock = 256;  // threads per block of the elementwise and row kernels
inline constexpr int kWarp = 32;

// Blocks for a grid-stride loop over n elements (at most 65,535 × kBlock per pass is plenty).
inline unsigned blocks_for(int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

#define HEED_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__device__ inline float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum and maximum over a block of kBlock threads; every thread gets the result. `scratch` holds
// kBlock / kWarp floats in shared memory.
__device__ inline float block_sum(float v, float* scratch) {
  v = warp_sum(v);
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  __syncthreads();  // scratch may still be read by a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / kWarp) ? scratch[lane] : 0.0f;
  return warp_sum(v);
}
__device__ inline float block_max(float v, float* scratch) {
  v = warp_max(v);
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / kWarp) ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

// The keys query t of sequence b sees, among `keys` (VisibleKeys::ranges with lengths applied).
__device__ inline KeyRanges seen_keys(const KeyRule& rule, int64_t b, int64_t t, int64_t keys) {
  if (rule.all) return {0, 0, keys};
  int64_t end = keys;
  if (rule.lengths != nullptr && rule.lengths[b] < end) end = rule.lengths[b];
  return visible_key_ranges(rule.causal, rule.window, rule.global, rule.first_query + t, end);
}

}  // namespace heed::cuda
