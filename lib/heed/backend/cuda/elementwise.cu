// Elementwise kernels and memory moves of the CUDA backend: one thread per element in
// grid-stride loops.

#include <cuda_bf16.h>

#include "heed/backend/cuda/device_common.cuh"
#include "heed/core/rng.h"

namespace heed::cuda {
namespace {

template <typename T>
__global__ void fill_kernel(T* x, int64_t n, T value) {
  HEED_GRID_STRIDE(i, n) x[i] = value;
}

__global__ void to_bf16_kernel(const float* x, uint16_t* y, int64_t n) {
  HEED_GRID_STRIDE(i, n) {
    const __nv_bfloat16 h = __float2bfloat16_rn(x[i]);
    y[i] = *reinterpret_cast<const uint16_t*>(&h);
  }
}

__global__ void swap_axes_kernel(const float* x, float* y, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
  const int64_t n = d0 * d1 * d2 * d3;
  HEED_GRID_STRIDE(i, n) {  // i indexes x [d0, d1, d2, d3]; y is [d0, d2, d1, d3]
    const int64_t d = i % d3, c = (i / d3) % d2, b = (i / (d3 * d2)) % d1, a = i / (d3 * d2 * d1);
    y[((a * d2 + c) * d1 + b) * d3 + d] = x[i];
  }
}

__global__ void write_time_step_kernel(const float* step, float* cache, int64_t rows, int64_t dim, int64_t capacity,
                                       int64_t position) {
  HEED_GRID_STRIDE(i, rows * dim) cache[((i / dim) * capacity + position) * dim + i % dim] = step[i];
}

__global__ void gather_rows_kernel(const uint8_t* src, const int32_t* rows, uint8_t* dst, int64_t count,
                                   int64_t row_bytes) {
  HEED_GRID_STRIDE(i, count * row_bytes) dst[i] = src[rows[i / row_bytes] * row_bytes + i % row_bytes];
}

__global__ void gather_cache_rows_kernel(const float* src, const int32_t* rows, float* dst, int64_t count,
                                         int64_t heads, int64_t from_capacity, int64_t to_capacity, int64_t length,
                                         int64_t dim) {
  HEED_GRID_STRIDE(i, count * heads * length * dim) {  // i indexes [count, heads, length, dim]
    const int64_t j = i % dim, t = (i / dim) % length, h = (i / (dim * length)) % heads, r = i / (dim * length * heads);
    dst[((r * heads + h) * to_capacity + t) * dim + j] = src[((rows[r] * heads + h) * from_capacity + t) * dim + j];
  }
}

__global__ void sequence_lengths_kernel(const int32_t* ids, int32_t pad_id, int32_t* lengths, int64_t batch,
                                        int64_t length) {
  HEED_GRID_STRIDE(b, batch) {
    int64_t n = 0;
    while (n < length && ids[b * length + n] != pad_id) ++n;
    lengths[b] = static_cast<int32_t>(n);
  }
}

__global__ void add_kernel(const float* a, const float* b, float* c, int64_t n, Broadcast bc) {
  HEED_GRID_STRIDE(i, n) {
    int64_t offset = 0, rest = i;
    for (int axis = bc.rank - 1; axis >= 0; --axis) {
      offset += (rest % bc.dims[axis]) * bc.b_strides[axis];
      rest /= bc.dims[axis];
    }
    c[i] = a[i] + b[offset];
  }
}

__global__ void axpy_kernel(float alpha, const float* x, float* y, int64_t n) {
  HEED_GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

__device__ inline float gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
__device__ inline float gelu_derivative(float x) {
  const float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
  return cdf + x * expf(-0.5f * x * x) * 0.39894228040143268f;
}

__device__ inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__global__ void activation_forward_kernel(int kind, const float* x, float* y, int64_t n) {
  HEED_GRID_STRIDE(i, n) y[i] = kind == 0 ? fmaxf(x[i], 0.0f) : kind == 1 ? gelu(x[i]) : x[i] * sigmoid(x[i]);
}

__global__ void activation_backward_kernel(int kind, const float* x, const float* dy, float* dx, int64_t n,
                                           bool accumulate) {
  HEED_GRID_STRIDE(i, n) {
    const float s = sigmoid(x[i]);
    const float slope = kind == 0 ? (x[i] > 0.0f ? 1.0f : 0.0f) : kind == 1 ? gelu_derivative(x[i]) : s * (1.0f + x[i] * (1.0f - s));
    const float g = dy[i] * slope;
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

// Dropout's factor for element i: the mask DropoutMask draws on the CPU, element first + i.
__device__ inline float dropout_factor(const DropoutMask& mask, float keep_scale, uint64_t index) {
  return mask.keeps(index) ? keep_scale : 0.0f;
}

__global__ void dropout_forward_kernel(const float* x, float* y, int64_t n, DropoutRule rule) {
  const DropoutMask mask(rule.seed, rule.p);
  const float keep_scale = static_cast<float>(1.0 / (1.0 - static_cast<double>(rule.p)));
  HEED_GRID_STRIDE(i, n) y[i] = x[i] * dropout_factor(mask, keep_scale, rule.first + static_cast<uint64_t>(i));
}

__global__ void dropout_backward_kernel(const float* dy, float* dx, int64_t n, DropoutRule rule, bool accumulate) {
  const DropoutMask mask(rule.seed, rule.p);
  const float keep_scale = static_cast<float>(1.0 / (1.0 - static_cast<double>(rule.p)));
  HEED_GRID_STRIDE(i, n) {
    const float g = dy[i] * dropout_factor(mask, keep_scale, rule.first + static_cast<uint64_t>(i));
    dx[i] = accumulate ? dx[i] + g : g;
  }
}

__global__ void embedding_forward_kernel(const float* table, const int32_t* ids, float scale, float* y, int64_t count,
                                         int64_t dim) {
  HEED_GRID_STRIDE(i, count * dim) y[i] = scale * table[ids[i / dim] * dim + i % dim];
}

__global__ void embedding_backward_kernel(const int32_t* ids, const float* dy, float scale, float* dtable,
                                          int64_t count, int64_t dim) {
  // Repeated ids add up: atomics make the order of the additions (and the last bits) vary.
  HEED_GRID_STRIDE(i, count * dim) atomicAdd(dtable + ids[i / dim] * dim + i % dim, scale * dy[i]);
}

__global__ void adam_kernel(float* params, const float* grads, float* m, float* v, int64_t n, float lr, float beta1,
                            float beta2, float epsilon, float grad_scale, float correction1, float correction2) {
  HEED_GRID_STRIDE(i, n) {
    const float g = grad_scale * grads[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] -= lr * (mi / correction1) / (sqrtf(vi / correction2) + epsilon);
  }
}

}  // namespace

void fill_f32(float* x, int64_t n, float value, Stream s) { fill_kernel<<<blocks_for(n), kBlock, 0, s>>>(x, n, value); }
void fill_i32(int32_t* x, int64_t n, int32_t value, Stream s) { fill_kernel<<<blocks_for(n), kBlock, 0, s>>>(x, n, value); }
void fill_u8(uint8_t* x, int64_t n, uint8_t value, Stream s) { fill_kernel<<<blocks_for(n), kBlock, 0, s>>>(x, n, value); }
void to_bf16(const float* x, uint16_t* y, int64_t n, Stream s) { to_bf16_kernel<<<blocks_for(n), kBlock, 0, s>>>(x, y, n); }

void swap_axes_12(const float* x, float* y, int64_t d0, int64_t d1, int64_t d2, int64_t d3, Stream s) {
  swap_axes_kernel<<<blocks_for(d0 * d1 * d2 * d3), kBlock, 0, s>>>(x, y, d0, d1, d2, d3);
}

void write_time_step(const float* step, float* cache, int64_t rows, int64_t dim, int64_t capacity, int64_t position,
                     Stream s) {
  write_time_step_kernel<<<blocks_for(rows * dim), kBlock, 0, s>>>(step, cache, rows, dim, capacity, position);
}

void gather_rows(const uint8_t* src, const int32_t* rows, uint8_t* dst, int64_t count, int64_t row_bytes, Stream s) {
  gather_rows_kernel<<<blocks_for(count * row_bytes), kBlock, 0, s>>>(src, rows, dst, count, row_bytes);
}

void gather_cache_rows(const float* src, const int32_t* rows, float* dst, int64_t count, int64_t heads,
                       int64_t from_capacity, int64_t to_capacity, int64_t length, int64_t dim, Stream s) {
  gather_cache_rows_kernel<<<blocks_for(count * heads * length * dim), kBlock, 0, s>>>(
      src, rows, dst, count, heads, from_capacity, to_capacity, length, dim);
}

void sequence_lengths(const int32_t* ids, int32_t pad_id, int32_t* lengths, int64_t batch, int64_t length, Stream s) {
  sequence_lengths_kernel<<<blocks_for(batch), kBlock, 0, s>>>(ids, pad_id, lengths, batch, length);
}

void add(const float* a, const float* b, float* c, int64_t n, const Broadcast& broadcast, Stream s) {
  add_kernel<<<blocks_for(n), kBlock, 0, s>>>(a, b, c, n, broadcast);
}

void axpy(float alpha, const float* x, float* y, int64_t n, Stream s) {
  axpy_kernel<<<blocks_for(n), kBlock, 0, s>>>(alpha, x, y, n);
}

void activation_forward(int kind, const float* x, float* y, int64_t n, Stream s) {
  activation_forward_kernel<<<blocks_for(n), kBlock, 0, s>>>(kind, x, y, n);
}

void activation_backward(int kind, const float* x, const float* dy, float* dx, int64_t n, bool accumulate, Stream s) {
  activation_backward_kernel<<<blocks_for(n), kBlock, 0, s>>>(kind, x, dy, dx, n, accumulate);
}

void dropout_forward(const float* x, float* y, int64_t n, DropoutRule rule, Stream s) {
  dropout_forward_kernel<<<blocks_for(n), kBlock, 0, s>>>(x, y, n, rule);
}

void dropout_backward(const float* dy, float* dx, int64_t n, DropoutRule rule, bool accumulate, Stream s) {
  dropout_backward_kernel<<<blocks_for(n), kBlock, 0, s>>>(dy, dx, n, rule, accumulate);
}

void embedding_forward(const float* table, const int32_t* ids, float scale, float* y, int64_t count, int64_t dim,
                       Stream s) {
  embedding_forward_kernel<<<blocks_for(count * dim), kBlock, 0, s>>>(table, ids, scale, y, count, dim);
}

void embedding_backward(const int32_t* ids, const float* dy, float scale, float* dtable, int64_t count, int64_t dim,
                        Stream s) {
  embedding_backward_kernel<<<blocks_for(count * dim), kBlock, 0, s>>>(ids, dy, scale, dtable, count, dim);
}

void adam_update(float* params, const float* grads, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                 float epsilon, float grad_scale, double correction1, double correction2, Stream s) {
  adam_kernel<<<blocks_for(n), kBlock, 0, s>>>(params, grads, m, v, n, lr, beta1, beta2, epsilon, grad_scale,
                                               static_cast<float>(correction1), static_cast<float>(correction2));
}

}  // namespace heed::cuda
