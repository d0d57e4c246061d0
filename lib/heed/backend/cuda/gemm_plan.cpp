#include "heed/backend/cuda/gemm_plan.h"

namespace heed {

GemmPlan plan_gemm(const Shape& a, const Shape& b, const Shape& c, const MatmulOptions& o) {
  const int64_t M = c[-2], N = c[-1];
  const int64_t K = o.transpose_a ? a[-2] : a[-1];
  int64_t batch = c.rows() / M;
  // b is one matrix for every batch when its batch dims are all 1 (or it has none).
  const bool shared_b = b.numel() == K * N;
  // With one b and a stored untransposed, the batches of a are just more rows: one GEMM.
  int64_t rows = M;
  if (shared_b && !o.transpose_a && batch > 1) {
    rows = M * batch;
    batch = 1;
  }
  GemmPlan p;
  p.m = N;
  p.n = rows;
  p.k = K;
  p.batch = batch;
  // First operand, op(b)ᵀ [N × K]: b stored [K, N] reads column-major as N × K (no op); stored
  // [N, K] (transpose_b) it reads as K × N and is transposed.
  p.first = o.transpose_b ? GemmOperand{true, K, N, K, shared_b ? 0 : K * N}
                          : GemmOperand{false, N, K, N, shared_b ? 0 : K * N};
  // Second operand, op(a)ᵀ [K × rows]: a stored [rows, K] reads as K × rows; stored [K, M]
  // (transpose_a) it reads as M × K and is transposed.
  p.second = o.transpose_a ? GemmOperand{true, rows, K, rows, M * K} : GemmOperand{false, K, rows, K, rows * K};
  p.ld_out = N;
  p.out_batch_stride = rows * N;
  p.alpha = o.alpha;
  p.beta = o.accumulate == Accumulate::yes ? 1.0f : 0.0f;
  p.bias = o.bias != nullptr;
  return p;
}

namespace {

// Element (i, j) of op(X) for a column-major operand.
float element(const GemmOperand& x, const float* base, int64_t i, int64_t j) {
  return x.transposed ? base[j + i * x.ld] : base[i + j * x.ld];
}

}  // namespace

void run_gemm_plan_on_host(const GemmPlan& p, const float* first, const float* second, const float* bias, float* out) {
  for (int64_t batch = 0; batch < p.batch; ++batch) {
    const float* f = first + batch * p.first.batch_stride;
    const float* s = second + batch * p.second.batch_stride;
    float* d = out + batch * p.out_batch_stride;
    for (int64_t j = 0; j < p.n; ++j)
      for (int64_t i = 0; i < p.m; ++i) {
        double sum = 0.0;
        for (int64_t l = 0; l < p.k; ++l)
          sum += static_cast<double>(element(p.first, f, i, l)) * element(p.second, s, l, j);
        double value = p.alpha * sum + p.beta * d[i + j * p.ld_out];
        if (p.bias) value += bias[i];
        d[i + j * p.ld_out] = static_cast<float>(value);
      }
  }
}

}  // namespace heed
