// OneDnnBackend::matmul_speedup: whether bf16 matmuls are worth it on this CPU, measured. AMX
// makes them several times faster than f32; AVX-512 BF16 alone can make them slower (on Intel
// Xeons without AMX, VDPBF16PS's 32 products issue about once every two cycles against two
// 16-product FMAs a cycle), so heed asks the machine rather than the instruction set.

#include <algorithm>
#include <chrono>
#include <mutex>
#include <utility>

#include "heed/backend/onednn/onednn_backend.h"

namespace heed {
namespace {

// The fastest of `runs` products in each precision, taken in turns so that a busy machine slows
// both alike; the fastest run is the one least disturbed.
std::pair<double, double> fastest_seconds(OneDnnBackend& be, const Tensor& a, const Tensor& b, const Tensor& c, int runs) {
  double fastest[2] = {1e30, 1e30};
  for (int run = 0; run < runs + 2; ++run)  // two warm-up rounds create the primitives
    for (int i = 0; i < 2; ++i) {
      be.set_matmul_precision(i == 0 ? Precision::f32 : Precision::bf16);
      const auto start = std::chrono::steady_clock::now();
      be.matmul(a, b, c);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (run >= 2) fastest[i] = std::min(fastest[i], seconds);
    }
  return {fastest[0], fastest[1]};
}

}  // namespace

double OneDnnBackend::matmul_speedup(Precision precision) {
  if (precision != Precision::bf16 || !supports(precision)) return 1.0;
  static std::once_flag once;
  static double speedup = 1.0;
  std::call_once(once, [this] {
    const Precision before = matmul_precision();
    const Tensor a = allocate_zeroed(Shape{512, 256}), b = allocate_zeroed(Shape{256, 1024}), c = allocate(Shape{512, 1024});
    const auto [f32, bf16] = fastest_seconds(*this, a, b, c, 7);
    set_matmul_precision(before);
    speedup = f32 / bf16;
  });
  return speedup;
}

}  // namespace heed
