// Row kernels of the CUDA backend: one block of kBlock threads per row for softmaxes, layer norm
// and the loss; column sums (bias and layer-norm parameter gradients) with one thread per column
// and rows split between blocks.

#include "heed/backend/cuda/device_common.cuh"

namespace heed::cuda {
namespace {

__device__ inline void put(float* out, int64_t i, float value, bool accumulate) {
  out[i] = accumulate ? out[i] + value : value;
}

// y[c] (+)= Σ_r x[r, c]: a block per column chunk of kWarp columns, its threads striding rows;
// each partial sum lands in shared memory, then one thread per column adds them up.
__global__ void sum_rows_kernel(const float* x, float* y, int64_t rows, int64_t cols, bool accumulate) {
  __shared__ float partial[kBlock / kWarp][kWarp];
  const int64_t c = blockIdx.x * static_cast<int64_t>(kWarp) + threadIdx.x % kWarp;
  const int row_lane = threadIdx.x / kWarp;
  float sum = 0.0f;
  if (c < cols)
    for (int64_t r = row_lane; r < rows; r += kBlock / kWarp) sum += x[r * cols + c];
  partial[row_lane][threadIdx.x % kWarp] = sum;
  __syncthreads();
  if (row_lane == 0 && c < cols) {
    float total = 0.0f;
    for (int i = 0; i < kBlock / kWarp; ++i) total += partial[i][threadIdx.x];
    put(y, c, total, accumulate);
  }
}

__global__ void sum_squares_kernel(const float* x, int64_t n, double* result) {
  __shared__ float scratch[kBlock / kWarp];
  float sum = 0.0f;
  HEED_GRID_STRIDE(i, n) sum += x[i] * x[i];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) atomicAdd(result, static_cast<double>(sum));
}

__global__ void softmax_forward_kernel(const float* x, float* y, int64_t cols, int64_t heads, int64_t queries,
                                       KeyRule keys) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t r = blockIdx.x;
  const float* xr = x + r * cols;
  float* yr = y + r * cols;
  const KeyRanges seen = seen_keys(keys, r / (heads * queries), r % queries, cols);
  if (seen.count() <= 0) {  // every key hidden: uniform, as the CPU backends make it
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = 1.0f / static_cast<float>(cols);
    return;
  }
  float max = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    if (seen.contains(c)) max = fmaxf(max, xr[c]);
  max = block_max(max, scratch);
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    if (seen.contains(c)) sum += expf(xr[c] - max);
  sum = block_sum(sum, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = seen.contains(c) ? expf(xr[c] - max) / sum : 0.0f;
}

__global__ void softmax_backward_kernel(const float* y, const float* dy, float* dx, int64_t cols, bool accumulate) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t r = blockIdx.x;
  float dot = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) dot += dy[r * cols + c] * y[r * cols + c];
  dot = block_sum(dot, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
    put(dx, r * cols + c, y[r * cols + c] * (dy[r * cols + c] - dot), accumulate);
}

// log Σ exp over a row, by block.
__device__ float row_log_sum_exp(const float* xr, int64_t cols, float* scratch) {
  float max = -INFINITY;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) max = fmaxf(max, xr[c]);
  max = block_max(max, scratch);
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += expf(xr[c] - max);
  return max + logf(block_sum(sum, scratch));
}

__global__ void log_softmax_kernel(const float* x, float* y, int64_t cols) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t r = blockIdx.x;
  const float log_sum = row_log_sum_exp(x + r * cols, cols, scratch);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) y[r * cols + c] = x[r * cols + c] - log_sum;
}

__global__ void layer_norm_forward_kernel(const float* x, const float* gamma, const float* beta, float eps, float* y,
                                          float* mean, float* var, int64_t cols) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t r = blockIdx.x;
  const float* xr = x + r * cols;
  float sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) sum += xr[c];
  const float mu = block_sum(sum, scratch) / static_cast<float>(cols);
  float squares = 0.0f;  // two passes: no cancellation as in E[x²] − E[x]²
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) squares += (xr[c] - mu) * (xr[c] - mu);
  const float v = block_sum(squares, scratch) / static_cast<float>(cols);
  const float rstd = rsqrtf(v + eps);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) y[r * cols + c] = (xr[c] - mu) * rstd * gamma[c] + beta[c];
  if (threadIdx.x == 0) {
    mean[r] = mu;
    var[r] = v;
  }
}

// dx = rstd · (g − mean(g) − x̂ · mean(g·x̂)) with x̂ = (x − μ)·rstd and g = dy·γ.
__global__ void layer_norm_backward_kernel(const float* x, const float* dy, const float* gamma, const float* mean,
                                           const float* var, float eps, float* dx, int64_t cols, bool accumulate) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t r = blockIdx.x;
  const float mu = mean[r], rstd = rsqrtf(var[r] + eps);
  float g_sum = 0.0f, gx_sum = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float g = dy[r * cols + c] * gamma[c];
    g_sum += g;
    gx_sum += g * (x[r * cols + c] - mu) * rstd;
  }
  const float g_mean = block_sum(g_sum, scratch) / static_cast<float>(cols);
  const float gx_mean = block_sum(gx_sum, scratch) / static_cast<float>(cols);
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float xhat = (x[r * cols + c] - mu) * rstd;
    put(dx, r * cols + c, rstd * (dy[r * cols + c] * gamma[c] - g_mean - xhat * gx_mean), accumulate);
  }
}

// dgamma[c] += Σ_r dy[r, c] · x̂[r, c]; dbeta[c] += Σ_r dy[r, c]: as sum_rows, two sums at once.
__global__ void layer_norm_parameters_kernel(const float* x, const float* dy, const float* mean, const float* var,
                                             float eps, float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  __shared__ float partial_gamma[kBlock / kWarp][kWarp], partial_beta[kBlock / kWarp][kWarp];
  const int64_t c = blockIdx.x * static_cast<int64_t>(kWarp) + threadIdx.x % kWarp;
  const int row_lane = threadIdx.x / kWarp;
  float sum_gamma = 0.0f, sum_beta = 0.0f;
  if (c < cols)
    for (int64_t r = row_lane; r < rows; r += kBlock / kWarp) {
      const float g = dy[r * cols + c];
      sum_gamma += g * (x[r * cols + c] - mean[r]) * rsqrtf(var[r] + eps);
      sum_beta += g;
    }
  partial_gamma[row_lane][threadIdx.x % kWarp] = sum_gamma;
  partial_beta[row_lane][threadIdx.x % kWarp] = sum_beta;
  __syncthreads();
  if (row_lane == 0 && c < cols) {
    float total_gamma = 0.0f, total_beta = 0.0f;
    for (int i = 0; i < kBlock / kWarp; ++i) {
      total_gamma += partial_gamma[i][threadIdx.x];
      total_beta += partial_beta[i][threadIdx.x];
    }
    dgamma[c] += total_gamma;
    dbeta[c] += total_beta;
  }
}

// One row of the loss: log_probs = log_softmax(logits); the row's smoothed loss and nll are
// added to sums[0], sums[1] and the row counted in sums[2] (doubles, by atomics).
__global__ void cross_entropy_forward_kernel(const float* logits, const int32_t* targets, float eps, int32_t ignore_id,
                                             float* log_probs, double* sums, int64_t vocab) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t r = blockIdx.x;
  const float* xr = logits + r * vocab;
  float* lp = log_probs + r * vocab;
  const float log_sum = row_log_sum_exp(xr, vocab, scratch);
  float sum_lp = 0.0f;
  for (int64_t c = threadIdx.x; c < vocab; c += blockDim.x) {
    lp[c] = xr[c] - log_sum;
    sum_lp += lp[c];
  }
  sum_lp = block_sum(sum_lp, scratch);
  const int32_t t = targets[r];
  if (threadIdx.x != 0 || t == ignore_id) return;
  const double nll = -(static_cast<double>(xr[t]) - log_sum);
  atomicAdd(sums, (1.0 - eps) * nll - static_cast<double>(eps) / static_cast<double>(vocab) * sum_lp);
  atomicAdd(sums + 1, nll);
  atomicAdd(sums + 2, 1.0);
}

__global__ void cross_entropy_backward_kernel(const float* log_probs, const int32_t* targets, float eps,
                                              int32_t ignore_id, float grad_scale, float* dlogits, int64_t vocab,
                                              bool accumulate) {
  const int64_t r = blockIdx.x;
  const int32_t t = targets[r];
  const float smooth = eps / static_cast<float>(vocab);
  for (int64_t c = threadIdx.x; c < vocab; c += blockDim.x) {
    float grad = 0.0f;
    if (t != ignore_id) grad = grad_scale * (expf(log_probs[r * vocab + c]) - ((c == t ? 1.0f - eps : 0.0f) + smooth));
    put(dlogits, r * vocab + c, grad, accumulate);
  }
}

unsigned column_blocks(int64_t cols) { return static_cast<unsigned>((cols + kWarp - 1) / kWarp); }

}  // namespace

void sum_rows(const float* x, float* y, int64_t rows, int64_t cols, bool accumulate, Stream s) {
  if (cols > 0) sum_rows_kernel<<<column_blocks(cols), kBlock, 0, s>>>(x, y, rows, cols, accumulate);
}

void sum_squares(const float* x, int64_t n, double* result, Stream s) {
  sum_squares_kernel<<<blocks_for(n), kBlock, 0, s>>>(x, n, result);
}

void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int64_t heads, int64_t queries,
                     KeyRule keys, Stream s) {
  if (rows > 0) softmax_forward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(x, y, cols, heads, queries, keys);
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool accumulate,
                      Stream s) {
  if (rows > 0) softmax_backward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(y, dy, dx, cols, accumulate);
}

void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, Stream s) {
  if (rows > 0) log_softmax_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(x, y, cols);
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float eps, float* y, float* mean,
                        float* var, int64_t rows, int64_t cols, Stream s) {
  if (rows > 0)
    layer_norm_forward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(x, gamma, beta, eps, y, mean, var, cols);
}

void layer_norm_backward(const float* x, const float* dy, const float* gamma, const float* mean, const float* var,
                         float eps, float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols,
                         bool accumulate, Stream s) {
  if (rows == 0 || cols == 0) return;
  layer_norm_backward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(x, dy, gamma, mean, var, eps, dx, cols,
                                                                            accumulate);
  layer_norm_parameters_kernel<<<column_blocks(cols), kBlock, 0, s>>>(x, dy, mean, var, eps, dgamma, dbeta, rows,
                                                                      cols);
}

void cross_entropy_forward(const float* logits, const int32_t* targets, float label_smoothing, int32_t ignore_id,
                           float* log_probs, double* sums, int64_t rows, int64_t vocab, Stream s) {
  if (rows > 0)
    cross_entropy_forward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(logits, targets, label_smoothing,
                                                                                ignore_id, log_probs, sums, vocab);
}

void cross_entropy_backward(const float* log_probs, const int32_t* targets, float label_smoothing, int32_t ignore_id,
                            float grad_scale, float* dlogits, int64_t rows, int64_t vocab, bool accumulate,
                            Stream s) {
  if (rows > 0)
    cross_entropy_backward_kernel<<<static_cast<unsigned>(rows), kBlock, 0, s>>>(
        log_probs, targets, label_smoothing, ignore_id, grad_scale, dlogits, vocab, accumulate);
}

}  // namespace heed::cuda
