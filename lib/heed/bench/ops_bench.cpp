#include "heed/bench/ops_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "heed/backend/onednn/onednn_backend.h"
#include "heed/core/rng.h"

namespace heed {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

Tensor random_tensor(const Shape& shape, Rng& rng) {
  Tensor t = Tensor::empty(shape);
  float* p = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform(-1.0f, 1.0f);
  return t;
}

struct Operands {
  Tensor a, b, c;
};

// host itself on a CPU backend; on a GPU, a copy in the GPU's memory.
Tensor on_device(Backend& backend, const Tensor& host) {
  if (backend.device() == Device::cpu) return host;
  Tensor t = backend.allocate(host.shape());
  backend.upload(host, t);
  return t;
}

// On the backend's device.
Operands make_operands(Backend& backend, const MatmulShape& s, Rng& rng) {
  const bool batched = s.batch > 1;
  const Shape a_shape = batched ? Shape{s.batch, s.m, s.k} : Shape{s.m, s.k};
  const Shape b_stored = s.transpose_b ? Shape{s.n, s.k} : Shape{s.k, s.n};
  const Shape b_shape = batched ? Shape{s.batch, b_stored[0], b_stored[1]} : b_stored;
  const Shape c_shape = batched ? Shape{s.batch, s.m, s.n} : Shape{s.m, s.n};
  return {on_device(backend, random_tensor(a_shape, rng)), on_device(backend, random_tensor(b_shape, rng)),
          backend.allocate(c_shape)};
}

// The median of `repeats` timed calls of run() after `warmups` untimed ones, and its GFLOP/s.
template <typename Run>
MatmulTiming time_calls(Backend& backend, const MatmulShape& shape, int warmups, int repeats, Run&& run) {
  for (int i = 0; i < warmups; ++i) run();
  backend.synchronize();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    run();
    backend.synchronize();
    times.push_back(seconds_since(start));
  }
  MatmulTiming timing;
  timing.median_seconds = median(times);
  timing.gflops = shape.flops() / timing.median_seconds * 1e-9;
  return timing;
}

}  // namespace

std::vector<MatmulShape> m30k_small_matmul_shapes() {
  // m30k-small: d_model 256, FFN 1024, 8,000-piece vocabulary, 4 heads of 64; a 4,096-token
  // batch of ~32-token sentences is 128 sentences × 4 heads = 512 attention products.
  return {
      {"2048x2048x2048 (reference)", 1, 2048, 2048, 2048, false},
      {"4096x256x256 (attention projections)", 1, 4096, 256, 256, false},
      {"4096x256x1024 (FFN in)", 1, 4096, 256, 1024, false},
      {"4096x1024x256 (FFN out)", 1, 4096, 1024, 256, false},
      {"4096x256x8000 (output projection)", 1, 4096, 256, 8000, false},
      {"512x(32x64x32) (attention QK^T)", 512, 32, 64, 32, true},
      {"512x(32x32x64) (attention PV)", 512, 32, 32, 64, false},
  };
}

std::vector<MatmulShape> decoding_matmul_shapes() {
  return {
      {"128x256x256 (attention projection)", 1, 128, 256, 256, false},
      {"128x256x1024 (FFN in)", 1, 128, 256, 1024, false},
      {"128x1024x256 (FFN out)", 1, 128, 1024, 256, false},
      {"128x256x8000 (output projection)", 1, 128, 256, 8000, true},
      {"8x256x256 (attention projection)", 1, 8, 256, 256, false},
      {"8x256x8000 (output projection)", 1, 8, 256, 8000, true},
      {"1024x256x1024 (encoder FFN in)", 1, 1024, 256, 1024, false},
  };
}

MatmulTiming time_prepared_matmul(Backend& backend, const MatmulShape& shape, Precision precision, int warmups, int repeats) {
  Rng rng(42);
  const Operands ops = make_operands(backend, shape, rng);
  const auto weight = backend.prepare_weight(ops.b, shape.transpose_b, precision);
  const Tensor bias = on_device(backend, random_tensor(Shape{shape.n}, rng));
  return time_calls(backend, shape, warmups, repeats, [&] { backend.matmul(ops.a, *weight, &bias, ops.c); });
}

double int8_worst_case_error(Backend& backend) {
  constexpr int64_t kRows = 8, kIn = 1024, kOut = 64;
  Tensor x = Tensor::empty(Shape{kRows, kIn}), w = Tensor::empty(Shape{kIn, kOut});
  std::fill(x.f32(), x.f32() + x.numel(), 1.0f);
  std::fill(w.f32(), w.f32() + w.numel(), 1.0f);
  const auto weight = backend.prepare_weight(on_device(backend, w), false, Precision::int8);
  Tensor y = backend.allocate(Shape{kRows, kOut}), host = Tensor::empty(Shape{kRows, kOut});
  backend.matmul(on_device(backend, x), *weight, nullptr, y);
  backend.download(y, host);
  double worst = 0.0;
  for (int64_t i = 0; i < host.numel(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(host.f32()[i]) - kIn) / kIn);
  return worst;
}

MatmulTiming time_matmul(Backend& backend, const MatmulShape& shape, int warmups, int repeats) {
  Rng rng(42);
  const Operands ops = make_operands(backend, shape, rng);
  MatmulOptions options;
  options.transpose_b = shape.transpose_b;
  return time_calls(backend, shape, warmups, repeats, [&] { backend.matmul(ops.a, ops.b, ops.c, options); });
}

PrimitiveCreationCost measure_primitive_creation(const MatmulShape& shape, int repeats) {
  Rng rng(7);
  OneDnnBackend operands_backend;
  const Operands ops = make_operands(operands_backend, shape, rng);
  MatmulOptions options;
  options.transpose_b = shape.transpose_b;
  std::vector<double> first_runs, runs;
  OneDnnBackend::set_library_cache_capacity(0);  // make every creation a real JIT compile
  for (int i = 0; i < repeats; ++i) {
    OneDnnBackend backend;
    auto start = Clock::now();
    backend.matmul(ops.a, ops.b, ops.c, options);
    first_runs.push_back(seconds_since(start));
    for (int j = 0; j < 3; ++j) {
      start = Clock::now();
      backend.matmul(ops.a, ops.b, ops.c, options);
      runs.push_back(seconds_since(start));
    }
  }
  OneDnnBackend::set_library_cache_capacity(256);  // heed's bound (OneDnnBackend)
  return {median(first_runs) * 1e6, median(runs) * 1e6};
}

}  // namespace heed
