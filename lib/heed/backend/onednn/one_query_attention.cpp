// The CPU backend's attend_one_query: decoding's attention (one query per sequence and head) as
// one OpenMP loop over the rows. oneDNN runs it as a batched matmul of [1 × d] · [d × S] per
// row, which at 512 rows of a 4-head, beam-4 step costs more in dispatch than in arithmetic, and
// reads the whole cache where only its filled part counts.

#include <cmath>

#include "heed/backend/onednn/backend_state.h"
#include "heed/backend/onednn/vector_math.h"

namespace heed {
namespace {

// One (sequence, head) row: scores into p (length S), softmax over the keys `seen` names, out = p · V.
inline void attend_row(const float* q, const float* keys, const float* values, float alpha, VisibleKeys::Ranges seen,
                       int64_t length, int64_t dim, float* p, float* out) {
  if (seen.count() <= 0) {  // no key visible: uniform over all, as softmax_forward does
    for (int64_t s = 0; s < length; ++s) p[s] = 1.0f / static_cast<float>(length);
    seen = {0, 0, length};
  } else {
    // The visible keys are [0, head_end) and [tail_begin, tail_end); the rest get probability 0.
    for (int64_t s = 0; s < length; ++s) p[s] = 0.0f;
    float max = -INFINITY;
    const auto score = [&](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s) {
        const float* k = keys + s * dim;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int64_t j = 0; j < dim; ++j) dot += q[j] * k[j];
        p[s] = alpha * dot;
        max = std::max(max, p[s]);
      }
    };
    score(0, seen.head_end);
    score(seen.tail_begin, seen.tail_end);
    float sum = 0.0f;
    const auto exponentiate = [&](int64_t begin, int64_t end) {
#pragma omp simd reduction(+ : sum)
      for (int64_t s = begin; s < end; ++s) {
        p[s] = exp_nonpositive(p[s] - max);
        sum += p[s];
      }
    };
    exponentiate(0, seen.head_end);
    exponentiate(seen.tail_begin, seen.tail_end);
    const float inverse = 1.0f / sum;
#pragma omp simd
    for (int64_t s = 0; s < seen.tail_end; ++s) p[s] *= inverse;
  }
#pragma omp simd
  for (int64_t j = 0; j < dim; ++j) out[j] = 0.0f;
  const auto weigh = [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      const float* v = values + s * dim;
      const float w = p[s];
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) out[j] += w * v[j];
    }
  };
  weigh(0, seen.head_end);
  weigh(seen.tail_begin, seen.tail_end);
}

// Compiled for AVX-512 and AVX2 besides the baseline, picked at load time.
__attribute__((target_clones("avx512f", "avx2", "default")))
void attend_rows(const float* q, const float* keys, const float* values, float alpha, const int32_t* lengths,
                 const VisibleKeys& visible, int64_t batch, int64_t share, int64_t heads, int64_t length, int64_t dim,
                 float* probs, float* out) {
  // Rows in (key row, head, sharing row) order, so that the beams reading one key row's keys
  // run one after the other, while those keys are in cache.
  const int64_t key_rows = batch / share;
#pragma omp parallel for collapse(2) if (batch * heads * length * dim > (1 << 17))
  for (int64_t k = 0; k < key_rows; ++k)
    for (int64_t h = 0; h < heads; ++h) {
      const VisibleKeys::Ranges seen =
          visible.ranges(visible.first_query, lengths ? std::min<int64_t>(length, lengths[k]) : length);
      const int64_t key_row = k * heads + h;
      for (int64_t j = 0; j < share; ++j) {
        const int64_t row = (k * share + j) * heads + h;
        attend_row(q + row * dim, keys + key_row * length * dim, values + key_row * length * dim, alpha, seen, length,
                   dim, probs + row * length, out + row * dim);
      }
    }
}

}  // namespace

void OneDnnBackend::do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                                        const VisibleKeys& visible, const Tensor& probs, const Tensor& out) {
  attend_rows(q.f32(), keys.f32(), values.f32(), alpha, visible.lengths ? visible.lengths->data<int32_t>() : nullptr,
              visible, q.shape()[0], q.shape()[0] / keys.shape()[0], q.shape()[1], keys.shape()[2], q.shape()[3],
              probs.f32(), out.f32());
}

}  // namespace heed
