#pragma once
// GemmPlan: one Backend::matmul (row-major, batched, b shared or per batch, transposes, bias,
// accumulate) as the column-major strided-batched GEMM cuBLAS(Lt) computes. A row-major matrix
// is its transpose read column-major, so c = op(a)·op(b) is computed as cᵀ = op(b)ᵀ·op(a)ᵀ: the
// first cuBLAS operand is b's memory, the second a's, and the output is [N rows, M cols] with
// leading dimension N. Kept apart from the CUDA code and free of its types so that the CPU tests
// can run a plan with plain loops (run_gemm_plan_on_host) against the reference backend: the
// layouts are where a GPU matmul goes wrong, and they are checked without a GPU.

#include <cstdint>

#include "heed/backend/backend.h"

namespace heed {

struct GemmOperand {
  bool transposed = false;  // op(X) = Xᵀ
  int64_t rows = 0, cols = 0, ld = 0;  // the stored column-major matrix, before op
  int64_t batch_stride = 0;            // elements between batches (0: one matrix for all)
};

struct GemmPlan {
  int64_t m = 0, n = 0, k = 0;  // cuBLAS's: D [m × n] = op(first) [m × k] · op(second) [k × n]
  int64_t batch = 1;
  GemmOperand first;   // b's memory
  GemmOperand second;  // a's memory
  int64_t ld_out = 0, out_batch_stride = 0;
  float alpha = 1.0f, beta = 0.0f;  // beta 1 when accumulating
  bool bias = false;                // bias [m] added to every column (a row-major row)
};

// The plan of matmul(a, b, c, options); the shapes have been checked by Backend::matmul.
GemmPlan plan_gemm(const Shape& a, const Shape& b, const Shape& c, const MatmulOptions& options);

// Runs a plan on host memory with plain loops, reading operands exactly as cuBLAS reads them.
void run_gemm_plan_on_host(const GemmPlan& plan, const float* first, const float* second, const float* bias,
                           float* out);

}  // namespace heed
