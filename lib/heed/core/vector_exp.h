#pragma once
// e^x that the compiler vectorises inside `omp simd` loops, where the C library's std::exp
// stays a scalar call per element (GCC vectorises it only under -ffast-math). The CPU backend's
// softmaxes and the beam's log-softmax normaliser use it.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace heed {

// e^x for x in [−87, 88], vectorisable: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor
// polynomial to r⁶ (relative error < 2e-7), 2ⁿ through the exponent bits.
inline float exp_in_range(float x) {
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;  // ln 2 in two parts (Cody & Waite)
  const float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  return p * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}

// e^x for x ≤ 0 (softmax's shifted scores, log probabilities).
inline float exp_nonpositive(float x) {
  return exp_in_range(std::max(x, -87.0f));  // e^-87 ≈ 1.6e-38: still a normal float
}

}  // namespace heed
