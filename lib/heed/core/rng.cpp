#include "heed/core/rng.h"

#include <cmath>

namespace heed {

float Rng::normal() {
  // 1 - u keeps the logarithm's argument in (0, 1].
  const float u1 = 1.0f - uniform();
  const float u2 = uniform();
  return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.283185307179586f * u2);
}

}  // namespace heed
