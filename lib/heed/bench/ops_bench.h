#pragma once
// Throughput of the backend's matmul at the shapes heed's models run, as GFLOP/s and as a
// ratio to a large square matmul (the practical peak), plus the cost of creating a oneDNN
// primitive against executing it.

#include <cstdint>
#include <string>
#include <vector>

#include "heed/backend/backend.h"

namespace heed {

struct MatmulShape {
  std::string label;
  int64_t batch = 1;  // independent products (heads × sentences for attention)
  int64_t m = 0, k = 0, n = 0;
  bool transpose_b = false;
  double flops() const { return 2.0 * static_cast<double>(batch * m * k * n); }
};

// 2048³ first (the reference), then the m30k-small training shapes at 4,096 tokens.
std::vector<MatmulShape> m30k_small_matmul_shapes();

struct MatmulTiming {
  double median_seconds = 0.0;
  double gflops = 0.0;
};

// Median over `repeats` timed runs after `warmups` untimed ones.
MatmulTiming time_matmul(Backend& backend, const MatmulShape& shape, int warmups, int repeats);

// Translation's products with a weight, per decoding step at beam 4 × 32 sentences (128 rows), at
// 8 rows (the last sentences of a chunk), and the encoder's 1,024 rows (32 sentences × 32 pieces).
std::vector<MatmulShape> decoding_matmul_shapes();

// x · W with W prepared at `precision` (prepared_weight.h), the conversion of x included.
MatmulTiming time_prepared_matmul(Backend& backend, const MatmulShape& shape, Precision precision, int warmups, int repeats);

// The largest relative error of an int8 product (backend.supports(int8)) whose every input and
// weight code is at its limit, [8 × 1024] · [1024 × 64]: the sums a CPU's int8 instructions are
// likeliest to saturate. 0 (up to f32's last bit) where the backend's int8 path is exact.
double int8_worst_case_error(Backend& backend);

struct PrimitiveCreationCost {
  double create_and_first_run_us = 0.0;  // oneDNN's own cache disabled, so this JIT-compiles
  double run_us = 0.0;                   // median of cached runs
};

PrimitiveCreationCost measure_primitive_creation(const MatmulShape& shape, int repeats);

}  // namespace heed
