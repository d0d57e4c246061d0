#include "heed/core/half.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace heed {
namespace {

void halves_to_floats_scalar(const char* halves, int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, halves + i * 2, sizeof h);
    out[i] = half_to_float(h);
  }
}

#if defined(__x86_64__)
// F16C converts 8 halves an instruction, exactly (subnormals too: MXCSR's DAZ does not apply to
// it); a signalling NaN comes out quiet, as no file heed writes holds.
__attribute__((target("avx2,f16c"))) void halves_to_floats_f16c(const char* halves, int64_t count, float* out) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(halves + i * 2))));
  halves_to_floats_scalar(halves + i * 2, count - i, out + i);
}
#endif

}  // namespace

void halves_to_floats(const char* halves, int64_t count, float* out) {
#if defined(__x86_64__)
  // Every CPU with AVX2 has F16C (Intel from Haswell, AMD from Piledriver), and "avx2" is a
  // feature both GCC and Clang can ask for ("f16c" is GCC's only).
  static const bool f16c = __builtin_cpu_supports("avx2");
  if (f16c) return halves_to_floats_f16c(halves, count, out);
#endif
  halves_to_floats_scalar(halves, count, out);
}

}  // namespace heed
