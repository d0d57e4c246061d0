// Attention kernels of the CUDA backend. The tiled forward and backward (attention_forward,
// attention_backward) give each query row — and in the backward pass each key — a warp whose
// lanes hold the head's dimensions (j = lane + 32·i); scores are warp-wide dot products, and the
// softmax is the online one (a running maximum and sum), so memory stays linear in T + S as on
// the CPU. Correct first: a GPU-fast version would tile keys through shared memory.

#include "heed/backend/cuda/device_common.cuh"
#include "heed/core/rng.h"

namespace heed::cuda {
namespace {

constexpr int kLanesPerDim = kMaxHeadDim / kWarp;  // registers per lane for one head vector
constexpr int kWarpsPerBlock = kBlock / kWarp;

// Loads a head vector into the lane's registers (zeros past dim).
__device__ inline void load(const float* x, int64_t dim, float (&r)[kLanesPerDim]) {
  const int lane = threadIdx.x % kWarp;
#pragma unroll
  for (int i = 0; i < kLanesPerDim; ++i) {
    const int64_t j = lane + kWarp * i;
    r[i] = j < dim ? x[j] : 0.0f;
  }
}

// Σ_j r[j] · x[j] over the warp: every lane gets it.
__device__ inline float warp_dot(const float (&r)[kLanesPerDim], const float* x, int64_t dim) {
  const int lane = threadIdx.x % kWarp;
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kLanesPerDim; ++i) {
    const int64_t j = lane + kWarp * i;
    if (j < dim) sum += r[i] * x[j];
  }
  return warp_sum(sum);
}

// Calls f(s) for every key s in the ranges, in order.
template <typename F>
__device__ inline void for_each_key(const KeyRanges& seen, F&& f) {
  for (int64_t s = 0; s < seen.head_end; ++s) f(s);
  for (int64_t s = seen.tail_begin; s < seen.tail_end; ++s) f(s);
}

__device__ inline float dropout_factor(const DropoutRule& rule, const DropoutMask& mask, uint64_t index) {
  if (rule.p <= 0.0f) return 1.0f;
  return mask.keeps(rule.first + index) ? static_cast<float>(1.0 / (1.0 - static_cast<double>(rule.p))) : 0.0f;
}

__global__ void attention_forward_kernel(const float* q, const float* k, const float* v, float alpha, KeyRule rule,
                                         DropoutRule dropout, float* out, float* logsumexp, AttentionSizes n) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  if (row >= n.batch * n.heads * n.queries) return;
  const int64_t head = row / n.queries, b = head / n.heads, t = row % n.queries;
  const KeyRanges seen = seen_keys(rule, b, t, n.keys);
  const DropoutMask mask(dropout.seed, dropout.p);
  float qr[kLanesPerDim], acc[kLanesPerDim] = {};
  load(q + row * n.dim, n.dim, qr);
  float max = -INFINITY, sum = 0.0f;
  const int lane = threadIdx.x % kWarp;
  for_each_key(seen, [&](int64_t s) {
    const float* key = k + (head * n.keys + s) * n.dim;
    const float* value = v + (head * n.keys + s) * n.dim;
    const float score = alpha * warp_dot(qr, key, n.dim);
    const float new_max = fmaxf(max, score);
    const float rescale = expf(max - new_max), weight = expf(score - new_max);
    const float dropped = weight * dropout_factor(dropout, mask, static_cast<uint64_t>(row * n.keys + s));
    sum = sum * rescale + weight;
#pragma unroll
    for (int i = 0; i < kLanesPerDim; ++i) {
      const int64_t j = lane + kWarp * i;
      acc[i] = acc[i] * rescale + (j < n.dim ? dropped * value[j] : 0.0f);
    }
    max = new_max;
  });
  const bool any = seen.count() > 0;
#pragma unroll
  for (int i = 0; i < kLanesPerDim; ++i) {
    const int64_t j = lane + kWarp * i;
    if (j < n.dim) out[row * n.dim + j] = any ? acc[i] / sum : 0.0f;
  }
  if (lane == 0) logsumexp[row] = any ? max + logf(sum) : -INFINITY;
}

// Per query row: D = Σ_j d_out · out (= Σ_s p · dp), then dq = α Σ_s p (dp − D) k_s.
__global__ void attention_backward_queries_kernel(const float* q, const float* k, const float* v, const float* out,
                                                  const float* logsumexp, const float* d_out, float alpha,
                                                  KeyRule rule, DropoutRule dropout, float* dq, float* row_dot,
                                                  AttentionSizes n) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  if (row >= n.batch * n.heads * n.queries) return;
  const int64_t head = row / n.queries, b = head / n.heads, t = row % n.queries;
  const KeyRanges seen = seen_keys(rule, b, t, n.keys);
  const DropoutMask mask(dropout.seed, dropout.p);
  const int lane = threadIdx.x % kWarp;
  float qr[kLanesPerDim], dor[kLanesPerDim], grad[kLanesPerDim] = {};
  load(q + row * n.dim, n.dim, qr);
  load(d_out + row * n.dim, n.dim, dor);
  const float d = warp_dot(dor, out + row * n.dim, n.dim);
  if (lane == 0) row_dot[row] = d;
  const float lse = logsumexp[row];
  for_each_key(seen, [&](int64_t s) {
    const float* key = k + (head * n.keys + s) * n.dim;
    const float p = expf(alpha * warp_dot(qr, key, n.dim) - lse);
    const float dp = dropout_factor(dropout, mask, static_cast<uint64_t>(row * n.keys + s)) *
                     warp_dot(dor, v + (head * n.keys + s) * n.dim, n.dim);
    const float d_score = alpha * p * (dp - d);
#pragma unroll
    for (int i = 0; i < kLanesPerDim; ++i) {
      const int64_t j = lane + kWarp * i;
      if (j < n.dim) grad[i] += d_score * key[j];
    }
  });
#pragma unroll
  for (int i = 0; i < kLanesPerDim; ++i) {
    const int64_t j = lane + kWarp * i;
    if (j < n.dim) dq[row * n.dim + j] = grad[i];
  }
}

// Per key s: dk = α Σ_t p (dp − D_t) q_t and dv = Σ_t p · dropout · d_out_t over the queries
// that see s.
__global__ void attention_backward_keys_kernel(const float* q, const float* k, const float* v, const float* logsumexp,
                                               const float* d_out, const float* row_dot, float alpha, KeyRule rule,
                                               DropoutRule dropout, float* dk, float* dv, AttentionSizes n) {
  const int64_t key_row = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  if (key_row >= n.batch * n.heads * n.keys) return;
  const int64_t head = key_row / n.keys, b = head / n.heads, s = key_row % n.keys;
  const DropoutMask mask(dropout.seed, dropout.p);
  const int lane = threadIdx.x % kWarp;
  float kr[kLanesPerDim], vr[kLanesPerDim], gk[kLanesPerDim] = {}, gv[kLanesPerDim] = {};
  load(k + key_row * n.dim, n.dim, kr);
  load(v + key_row * n.dim, n.dim, vr);
  for (int64_t t = 0; t < n.queries; ++t) {
    if (!seen_keys(rule, b, t, n.keys).contains(s)) continue;
    const int64_t row = head * n.queries + t;
    const float* qt = q + row * n.dim;
    const float* dot = d_out + row * n.dim;
    const float p = expf(alpha * warp_dot(kr, qt, n.dim) - logsumexp[row]);
    const float factor = dropout_factor(dropout, mask, static_cast<uint64_t>(row * n.keys + s));
    const float dp = factor * warp_dot(vr, dot, n.dim);
    const float d_score = alpha * p * (dp - row_dot[row]);
#pragma unroll
    for (int i = 0; i < kLanesPerDim; ++i) {
      const int64_t j = lane + kWarp * i;
      if (j < n.dim) {
        gk[i] += d_score * qt[j];
        gv[i] += p * factor * dot[j];
      }
    }
  }
#pragma unroll
  for (int i = 0; i < kLanesPerDim; ++i) {
    const int64_t j = lane + kWarp * i;
    if (j < n.dim) {
      dk[key_row * n.dim + j] = gk[i];
      dv[key_row * n.dim + j] = gv[i];
    }
  }
}

// One decoding step's attention: a block per (b, h). Scores go to probs, which then holds the
// probabilities; out = probs · values.
__global__ void attend_one_query_kernel(const float* q, const float* keys, const float* values, float alpha,
                                        KeyRule rule, float* probs, float* out, AttentionSizes n) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t row = blockIdx.x, b = row / n.heads, h = row % n.heads;
  const int64_t share = n.batch / n.key_rows, key_head = (b / share) * n.heads + h;
  const float* qr = q + row * n.dim;
  const float* kr = keys + key_head * n.keys * n.dim;
  const float* vr = values + key_head * n.keys * n.dim;
  float* pr = probs + row * n.keys;
  const KeyRanges seen = seen_keys(rule, b / share, 0, n.keys);  // lengths are per key row
  if (seen.count() <= 0) {
    for (int64_t s = threadIdx.x; s < n.keys; s += blockDim.x) pr[s] = 1.0f / static_cast<float>(n.keys);
  } else {
    float max = -INFINITY;
    for (int64_t s = threadIdx.x; s < n.keys; s += blockDim.x) {
      if (!seen.contains(s)) continue;
      float dot = 0.0f;
      for (int64_t j = 0; j < n.dim; ++j) dot += qr[j] * kr[s * n.dim + j];
      pr[s] = alpha * dot;
      max = fmaxf(max, pr[s]);
    }
    max = block_max(max, scratch);
    float sum = 0.0f;
    for (int64_t s = threadIdx.x; s < n.keys; s += blockDim.x)
      if (seen.contains(s)) sum += (pr[s] = expf(pr[s] - max));
    sum = block_sum(sum, scratch);
    for (int64_t s = threadIdx.x; s < n.keys; s += blockDim.x) pr[s] = seen.contains(s) ? pr[s] / sum : 0.0f;
  }
  __syncthreads();  // every probability written before any is read
  for (int64_t j = threadIdx.x; j < n.dim; j += blockDim.x) {
    float sum = 0.0f;
    for (int64_t s = 0; s < n.keys; ++s) sum += pr[s] * vr[s * n.dim + j];
    out[row * n.dim + j] = sum;
  }
}

__global__ void additive_forward_kernel(const float* q, const float* k, const float* v, float* scores,
                                        AttentionSizes n) {
  HEED_GRID_STRIDE(i, n.batch * n.heads * n.queries * n.keys) {  // i indexes [B, H, T, S]
    const int64_t s = i % n.keys, row = i / n.keys, head = row / n.queries, h = head % n.heads;
    const float* qr = q + row * n.dim;
    const float* kr = k + (head * n.keys + s) * n.dim;
    float sum = 0.0f;
    for (int64_t j = 0; j < n.dim; ++j) sum += v[h * n.dim + j] * tanhf(qr[j] + kr[j]);
    scores[i] = sum;
  }
}

// dq[b, h, t, j] = Σ_s g · v_j · (1 − tanh²): one thread per element of q.
__global__ void additive_backward_q_kernel(const float* q, const float* k, const float* v, const float* dscores,
                                           float* dq, AttentionSizes n, bool accumulate) {
  HEED_GRID_STRIDE(i, n.batch * n.heads * n.queries * n.dim) {
    const int64_t j = i % n.dim, row = i / n.dim, head = row / n.queries, h = head % n.heads;
    float sum = 0.0f;
    for (int64_t s = 0; s < n.keys; ++s) {
      const float th = tanhf(q[i] + k[(head * n.keys + s) * n.dim + j]);
      sum += dscores[row * n.keys + s] * v[h * n.dim + j] * (1.0f - th * th);
    }
    dq[i] = accumulate ? dq[i] + sum : sum;
  }
}

// dk[b, h, s, j] = Σ_t g · v_j · (1 − tanh²): one thread per element of k.
__global__ void additive_backward_k_kernel(const float* q, const float* k, const float* v, const float* dscores,
                                           float* dk, AttentionSizes n, bool accumulate) {
  HEED_GRID_STRIDE(i, n.batch * n.heads * n.keys * n.dim) {
    const int64_t j = i % n.dim, key_row = i / n.dim, head = key_row / n.keys, s = key_row % n.keys,
                  h = head % n.heads;
    float sum = 0.0f;
    for (int64_t t = 0; t < n.queries; ++t) {
      const int64_t row = head * n.queries + t;
      const float th = tanhf(q[row * n.dim + j] + k[i]);
      sum += dscores[row * n.keys + s] * v[h * n.dim + j] * (1.0f - th * th);
    }
    dk[i] = accumulate ? dk[i] + sum : sum;
  }
}

// dv[h, j] += Σ_{b, t, s} g · tanh: a block per (h, j).
__global__ void additive_backward_v_kernel(const float* q, const float* k, const float* dscores, float* dv,
                                           AttentionSizes n) {
  __shared__ float scratch[kBlock / kWarp];
  const int64_t h = blockIdx.x / n.dim, j = blockIdx.x % n.dim;
  const int64_t count = n.batch * n.queries * n.keys;
  float sum = 0.0f;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {  // e indexes [B, T, S]
    const int64_t s = e % n.keys, t = (e / n.keys) % n.queries, b = e / (n.keys * n.queries);
    const int64_t head = b * n.heads + h, row = head * n.queries + t;
    sum += dscores[row * n.keys + s] * tanhf(q[row * n.dim + j] + k[(head * n.keys + s) * n.dim + j]);
  }
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) dv[h * n.dim + j] += sum;
}

unsigned warp_blocks(int64_t rows) { return static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock); }

}  // namespace

void attention_forward(const float* q, const float* k, const float* v, float alpha, KeyRule visible,
                       DropoutRule dropout, float* out, float* logsumexp, AttentionSizes n, Stream s) {
  const int64_t rows = n.batch * n.heads * n.queries;
  if (rows > 0)
    attention_forward_kernel<<<warp_blocks(rows), kBlock, 0, s>>>(q, k, v, alpha, visible, dropout, out, logsumexp, n);
}

void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* logsumexp,
                        const float* d_out, float alpha, KeyRule visible, DropoutRule dropout, float* dq, float* dk,
                        float* dv, float* row_dot, AttentionSizes n, Stream s) {
  const int64_t rows = n.batch * n.heads * n.queries, key_rows = n.batch * n.heads * n.keys;
  if (rows > 0)
    attention_backward_queries_kernel<<<warp_blocks(rows), kBlock, 0, s>>>(q, k, v, out, logsumexp, d_out, alpha,
                                                                           visible, dropout, dq, row_dot, n);
  if (key_rows > 0)
    attention_backward_keys_kernel<<<warp_blocks(key_rows), kBlock, 0, s>>>(q, k, v, logsumexp, d_out, row_dot, alpha,
                                                                            visible, dropout, dk, dv, n);
}

void attend_one_query(const float* q, const float* keys, const float* values, float alpha, KeyRule visible,
                      float* probs, float* out, AttentionSizes n, Stream s) {
  if (n.batch * n.heads > 0)
    attend_one_query_kernel<<<static_cast<unsigned>(n.batch * n.heads), kBlock, 0, s>>>(q, keys, values, alpha,
                                                                                        visible, probs, out, n);
}

void additive_scores_forward(const float* q, const float* k, const float* v, float* scores, AttentionSizes n,
                             Stream s) {
  additive_forward_kernel<<<blocks_for(n.batch * n.heads * n.queries * n.keys), kBlock, 0, s>>>(q, k, v, scores, n);
}

void additive_scores_backward(const float* q, const float* k, const float* v, const float* dscores, float* dq,
                              float* dk, float* dv, AttentionSizes n, bool accumulate, Stream s) {
  additive_backward_q_kernel<<<blocks_for(n.batch * n.heads * n.queries * n.dim), kBlock, 0, s>>>(q, k, v, dscores, dq,
                                                                                                  n, accumulate);
  additive_backward_k_kernel<<<blocks_for(n.batch * n.heads * n.keys * n.dim), kBlock, 0, s>>>(q, k, v, dscores, dk, n,
                                                                                               accumulate);
  if (n.heads * n.dim > 0)
    additive_backward_v_kernel<<<static_cast<unsigned>(n.heads * n.dim), kBlock, 0, s>>>(q, k, dscores, dv, n);
}

}  // namespace heed::cuda
