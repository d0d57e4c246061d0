#include "heed/backend/prepared_weight.h"

#include <algorithm>
#include <vector>

#include "heed/core/error.h"

namespace heed {
namespace {

// Round half to even, as std::nearbyint in the default rounding mode, for |v| < 2²²: adding
// 1.5 · 2²³ leaves no bits below the units, so the sum's rounding is the rounding to an integer,
// and subtracting it back is exact. Two additions a compiler vectorises.
inline float round_half_even(float v) {
  constexpr float kShifter = 12582912.0f;  // 1.5 · 2²³
  return (v + kShifter) - kShifter;
}

}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default")))
float largest_magnitude(const float* x, int64_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    m = a > m ? a : m;  // vmaxps; std::max stays scalar (GCC 12)
  }
  return m;
}

// Compiled for AVX-512 and AVX2 besides the baseline, picked at load time, as the int8 product's
// input quantisation is (onednn/prepared_matmul.cpp).
__attribute__((target_clones("avx512f", "avx2", "default")))
void int8_quantize_channels(const float* values, int64_t rows, int64_t cols, int channel_axis, int8_t* codes, float* steps) {
  HEED_CHECK(channel_axis == 0 || channel_axis == 1, "int8 channels lie along dimension 0 or 1, not {}", channel_axis);
  if (channel_axis == 0) {  // a step per row: each channel contiguous
    for (int64_t r = 0; r < rows; ++r) {
      const float* v = values + r * cols;
      const float step = steps[r] = int8_weight_step(largest_magnitude(v, cols));
      int8_t* q = codes + r * cols;
      for (int64_t c = 0; c < cols; ++c) q[c] = static_cast<int8_t>(round_half_even(v[c] / step));
    }
    return;
  }
  // A step per column: walk the rows, so that every access is contiguous.
  std::vector<float> maxima(static_cast<size_t>(cols), 0.0f);
  float* m = maxima.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* v = values + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const float a = std::fabs(v[c]);
      m[c] = a > m[c] ? a : m[c];
    }
  }
  for (int64_t c = 0; c < cols; ++c) steps[c] = int8_weight_step(m[c]);
  for (int64_t r = 0; r < rows; ++r) {
    const float* v = values + r * cols;
    int8_t* q = codes + r * cols;
    for (int64_t c = 0; c < cols; ++c) q[c] = static_cast<int8_t>(round_half_even(v[c] / steps[c]));
  }
}

void int8_dequantize_channels(const int8_t* codes, const float* steps, int64_t rows, int64_t cols, int channel_axis, float* values) {
  HEED_CHECK(channel_axis == 0 || channel_axis == 1, "int8 channels lie along dimension 0 or 1, not {}", channel_axis);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) values[r * cols + c] = static_cast<float>(codes[r * cols + c]) * steps[channel_axis == 1 ? c : r];
}

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::f32: return "f32";
    case Precision::bf16: return "bf16";
    case Precision::int8: return "int8";
  }
  return "?";
}

Precision parse_precision(std::string_view text, std::string_view what) {
  for (Precision p : {Precision::f32, Precision::bf16, Precision::int8})
    if (text == precision_name(p)) return p;
  fail("{}: unknown precision '{}' (f32, bf16 or int8)", what, text);
}

}  // namespace heed
