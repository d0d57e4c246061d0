#pragma once
// The CUDA backend's own kernels (everything but the matmuls, which are cuBLASLt's), declared
// with plain pointers and sizes: the .cu files see only this header, key_ranges.h and rng.h, not
// the rest of heed, and CudaBackend (cuda_backend.cpp) checks shapes before calling them. Each
// launches on `stream` and returns at once; the caller synchronises when it reads results.
// Sums are formed in f32 in registers and combined in f32 (the tests allow 1e-5 against the
// double-precision reference) except where the interface promises double (sum_squares, loss).

#include <cstdint>

struct CUstream_st;

namespace heed::cuda {

using Stream = CUstream_st*;

// VisibleKeys without its tensor: lengths is a device pointer (i32 [B]) or null.
struct KeyRule {
  const int32_t* lengths = nullptr;
  bool causal = false;
  int64_t first_query = 0, window = 0, global = 0;
  bool all = true;  // no restriction: every key is seen
};

// Attention's sizes: q [batch, heads, queries, dim], keys and values [key_rows, heads, keys, dim].
struct AttentionSizes {
  int64_t batch = 0, heads = 0, queries = 0, keys = 0, dim = 0, key_rows = 0;
};

struct DropoutRule {
  float p = 0.0f;
  uint64_t seed = 0, first = 0;
};

// ---- memory ----
void fill_f32(float* x, int64_t n, float value, Stream stream);
void fill_i32(int32_t* x, int64_t n, int32_t value, Stream stream);
void fill_u8(uint8_t* x, int64_t n, uint8_t value, Stream stream);
void to_bf16(const float* x, uint16_t* y, int64_t n, Stream stream);  // round to nearest even
void swap_axes_12(const float* x, float* y, int64_t d0, int64_t d1, int64_t d2, int64_t d3, Stream stream);
void write_time_step(const float* step, float* cache, int64_t rows, int64_t dim, int64_t capacity, int64_t position,
                     Stream stream);
void gather_rows(const uint8_t* src, const int32_t* rows, uint8_t* dst, int64_t count, int64_t row_bytes,
                 Stream stream);
void gather_cache_rows(const float* src, const int32_t* rows, float* dst, int64_t count, int64_t heads,
                       int64_t from_capacity, int64_t to_capacity, int64_t length, int64_t dim, Stream stream);
void sequence_lengths(const int32_t* ids, int32_t pad_id, int32_t* lengths, int64_t batch, int64_t length,
                      Stream stream);

// ---- elementwise ----
// Broadcasting add: b's dims (rank dims, each a's or 1) given as strides of a's index space.
struct Broadcast {
  int rank = 0;
  int64_t dims[6] = {};       // a's
  int64_t b_strides[6] = {};  // b's element stride per dim of a (0 where b has 1)
};
void add(const float* a, const float* b, float* c, int64_t n, const Broadcast& broadcast, Stream stream);
void axpy(float alpha, const float* x, float* y, int64_t n, Stream stream);
void activation_forward(int kind, const float* x, float* y, int64_t n, Stream stream);  // 0 relu, 1 gelu, 2 swish
void activation_backward(int kind, const float* x, const float* dy, float* dx, int64_t n, bool accumulate,
                         Stream stream);
void dropout_forward(const float* x, float* y, int64_t n, DropoutRule rule, Stream stream);
void dropout_backward(const float* dy, float* dx, int64_t n, DropoutRule rule, bool accumulate, Stream stream);
void embedding_forward(const float* table, const int32_t* ids, float scale, float* y, int64_t count, int64_t dim,
                       Stream stream);
void embedding_backward(const int32_t* ids, const float* dy, float scale, float* dtable, int64_t count, int64_t dim,
                        Stream stream);
void adam_update(float* params, const float* grads, float* m, float* v, int64_t n, float lr, float beta1,
                 float beta2, float epsilon, float grad_scale, double correction1, double correction2, Stream stream);

// ---- reductions over rows [rows, cols] ----
void sum_rows(const float* x, float* y, int64_t rows, int64_t cols, bool accumulate, Stream stream);
void sum_squares(const float* x, int64_t n, double* result, Stream stream);  // *result = Σ x² (device double)
void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, int64_t heads, int64_t queries,
                     KeyRule keys, Stream stream);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool accumulate,
                      Stream stream);
void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, Stream stream);
void layer_norm_forward(const float* x, const float* gamma, const float* beta, float eps, float* y, float* mean,
                        float* var, int64_t rows, int64_t cols, Stream stream);
// dx only; dgamma and dbeta accumulate through sum_rows-like column kernels.
void layer_norm_backward(const float* x, const float* dy, const float* gamma, const float* mean, const float* var,
                         float eps, float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols,
                         bool accumulate, Stream stream);
// sums [3] doubles: Σ loss, Σ nll, counted rows; log_probs receives log_softmax(logits).
void cross_entropy_forward(const float* logits, const int32_t* targets, float label_smoothing, int32_t ignore_id,
                           float* log_probs, double* sums, int64_t rows, int64_t vocab, Stream stream);
void cross_entropy_backward(const float* log_probs, const int32_t* targets, float label_smoothing, int32_t ignore_id,
                            float grad_scale, float* dlogits, int64_t rows, int64_t vocab, bool accumulate,
                            Stream stream);

// ---- attention ----
void additive_scores_forward(const float* q, const float* k, const float* v, float* scores, AttentionSizes n,
                             Stream stream);
void additive_scores_backward(const float* q, const float* k, const float* v, const float* dscores, float* dq,
                              float* dk, float* dv, AttentionSizes n, bool accumulate, Stream stream);
void attend_one_query(const float* q, const float* keys, const float* values, float alpha, KeyRule visible,
                      float* probs, float* out, AttentionSizes n, Stream stream);
void attention_forward(const float* q, const float* k, const float* v, float alpha, KeyRule visible,
                       DropoutRule dropout, float* out, float* logsumexp, AttentionSizes n, Stream stream);
// row_dot [batch·heads·queries]: scratch for Σ d_out ⊙ out per query.
void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* logsumexp,
                        const float* d_out, float alpha, KeyRule visible, DropoutRule dropout, float* dq, float* dk,
                        float* dv, float* row_dot, AttentionSizes n, Stream stream);

// The largest head width the attention kernels take (registers per lane).
inline constexpr int64_t kMaxHeadDim = 256;

}  // namespace heed::cuda
