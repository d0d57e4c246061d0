#pragma once
// Elementwise maths that the compiler vectorises inside `omp simd` loops, where the C library's
// std::exp and std::tanh stay scalar calls per element (GCC vectorises them only under -ffast-math).

#include <algorithm>
#include <cmath>

#include "heed/core/vector_exp.h"

namespace heed::onednn_detail {

// The exponentials (exp_in_range, exp_nonpositive) are in core/vector_exp.h: the beam search
// uses them too.

// tanh x = sign(x) · (1 − 2 / (e^{2|x|} + 1)); absolute error below 3e-7 on the whole real line.
inline float vector_tanh(float x) {
  const float e = exp_in_range(2.0f * std::min(std::fabs(x), 9.0f));  // tanh(9) = 1 − 3e-8: saturate there
  return std::copysign(1.0f - 2.0f / (e + 1.0f), x);
}

}  // namespace heed::onednn_detail
