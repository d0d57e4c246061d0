// Prepared weights (prepared_weight.h): oneDNN's f32, bf16 and int8 products against the
// reference backend's plain statement of the same arithmetic, and that arithmetic against the
// exact f32 product (how much precision each form gives up).

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>
#include <tuple>

#include "heed/backend/reference/reference_backend.h"
#include "heed/core/error.h"
#include "heed/devices/devices.h"
#include "support.h"

using namespace heed;
using namespace heed::test;

namespace {

struct Case {
  int64_t rows, in, out;
};
const std::vector<Case> kCases = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {13, 31, 7}, {64, 33, 65}, {128, 256, 300}};

// y = x · W (+ bias) with W prepared by `be`; w is [in, out], or [out, in] when transposed.
Tensor product(Backend& be, const Tensor& x, const Tensor& w, bool transposed, Precision p, const Tensor* bias) {
  const auto prepared = be.prepare_weight(w, transposed, p);
  Tensor y = Tensor::empty(Shape{x.shape()[0], prepared->out()});
  be.matmul(x, *prepared, bias, y);
  return y;
}

Tensor exact_product(const Tensor& x, const Tensor& w, bool transposed, const Tensor* bias) {
  Tensor y = Tensor::empty(Shape{x.shape()[0], transposed ? w.shape()[0] : w.shape()[1]});
  make_backend(BackendKind::reference)->matmul(x, w, y, {.transpose_b = transposed, .bias = bias});
  return y;
}

}  // namespace

TEST_CASE("prepared f32, bf16 and int8 products equal the reference's arithmetic, transposed or not") {
  const auto onednn = make_backend(BackendKind::onednn);
  auto reference = std::make_unique<ReferenceBackend>(onednn->int8_input_limit());
  Rng rng(3);
  for (Precision p : {Precision::f32, Precision::bf16, Precision::int8}) {
    if (!onednn->supports(p)) {
      MESSAGE("oneDNN has no ", precision_name(p), " kernels on this CPU: skipped");
      continue;
    }
    for (const Case& c : kCases)
      for (bool transposed : {false, true})
        for (bool with_bias : {false, true}) {
          CAPTURE(precision_name(p));
          CAPTURE(c.rows);
          CAPTURE(c.in);
          CAPTURE(c.out);
          CAPTURE(transposed);
          const Tensor x = random_tensor(Shape{c.rows, c.in}, rng, -3.0f, 3.0f);
          const Tensor w = random_tensor(transposed ? Shape{c.out, c.in} : Shape{c.in, c.out}, rng);
          const Tensor bias = random_tensor(Shape{c.out}, rng);
          const Tensor* b = with_bias ? &bias : nullptr;
          const Tensor fast = product(*onednn, x, w, transposed, p, b);
          const Tensor slow = product(*reference, x, w, transposed, p, b);
          // f32 and bf16 differ only in the order of summation; int8's integer sums are exact on
          // both, so only the final scaling's rounding may differ.
          CHECK(normalized_error(fast, slow) <= (p == Precision::int8 ? 1e-6 : 1e-5));
          // What the precision costs, against the exact f32 product: bf16 keeps 8 bits of each
          // operand, int8 7 bits of the largest in each column of W and 6 or 7 in all of x.
          const double cost = normalized_error(slow, exact_product(x, w, transposed, b));
          const double int8_cost = onednn->int8_input_limit() == kInt8FullInputLimit ? 3e-2 : 5e-2;
          CHECK(cost <= (p == Precision::f32 ? 1e-6 : p == Precision::bf16 ? 1e-2 : int8_cost));
          if (p != Precision::f32 && c.in >= 31) CHECK(cost > 1e-5);  // it did round
        }
  }
}

TEST_CASE("int8_quantize_channels gives int8_weight_code's codes and int8_weight_step's steps, ties included") {
  // Values at exact half steps (ties round to even), at ±max, zeros and random ones; an all-zero
  // channel (step 1); both channel axes, widths that leave vector remainders.
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{3, 37}, {37, 3}, {64, 257}}) {
    for (const int axis : {0, 1}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(axis);
      std::vector<float> w(static_cast<size_t>(rows * cols));
      Rng rng(static_cast<uint64_t>(rows * 1000 + cols * 10 + axis));
      for (float& v : w) v = rng.uniform(-2.0f, 2.0f);
      const int64_t channels = axis == 1 ? cols : rows;
      const auto element = [&](int64_t channel, int64_t i) -> float& {
        return axis == 1 ? w[static_cast<size_t>(i * cols + channel)] : w[static_cast<size_t>(channel * cols + i)];
      };
      const int64_t length = axis == 1 ? rows : cols;
      for (int64_t c = 0; c + 1 < channels; ++c) {
        element(c, 0) = 1.27f;  // the channel's max: step 0.01
        for (int64_t i = 1; i < length; ++i)
          if (i % 3 == 0) element(c, i) = (static_cast<float>(i % 40) - 20.0f + 0.5f) * (1.27f / 127.0f);
      }
      for (int64_t i = 0; i < length; ++i) element(channels - 1, i) = 0.0f;
      std::vector<int8_t> codes(w.size());
      std::vector<float> steps(static_cast<size_t>(channels));
      int8_quantize_channels(w.data(), rows, cols, axis, codes.data(), steps.data());
      int64_t wrong = 0;
      for (int64_t c = 0; c < channels; ++c) {
        float m = 0.0f;
        for (int64_t i = 0; i < length; ++i) m = std::max(m, std::fabs(element(c, i)));
        CHECK(steps[static_cast<size_t>(c)] == int8_weight_step(m));
        for (int64_t i = 0; i < length; ++i) {
          const size_t at = static_cast<size_t>(axis == 1 ? i * cols + c : c * cols + i);
          wrong += codes[at] != int8_weight_code(w[at], steps[static_cast<size_t>(c)]);
        }
      }
      CHECK(wrong == 0);
      CHECK(steps.back() == 1.0f);
    }
  }
}

TEST_CASE("an int8 product of an all-zero input is the bias, and a zero weight column stays zero") {
  const auto onednn = make_backend(BackendKind::onednn);
  for (Precision p : {Precision::int8, Precision::bf16}) {
    if (!onednn->supports(p)) continue;
    Rng rng(4);
    Tensor w = random_tensor(Shape{16, 8}, rng);
    for (int64_t k = 0; k < 16; ++k) w.f32()[k * 8 + 3] = 0.0f;  // column 3 is zero
    const Tensor bias = random_tensor(Shape{8}, rng);
    const Tensor zeros = Tensor::zeros(Shape{4, 16});
    const Tensor y = product(*onednn, zeros, w, false, p, &bias);
    for (int64_t i = 0; i < y.numel(); ++i) CHECK(y.f32()[i] == bias.f32()[i % 8]);
    const Tensor x = random_tensor(Shape{4, 16}, rng);
    const Tensor z = product(*onednn, x, w, false, p, nullptr);
    for (int64_t r = 0; r < 4; ++r) CHECK(z.f32()[r * 8 + 3] == 0.0f);
  }
}

TEST_CASE("an int8 product sums exactly where every code is at its limit (no 16-bit pair sum saturates)") {
  // The worst case for u8 · s8 kernels that add pairs of products in 16 bits (vpmaddubsw on CPUs
  // without VNNI): every input at +limit (stored as 2 · limit + 1) times every weight at +127.
  const auto onednn = make_backend(BackendKind::onednn);
  if (!onednn->supports(Precision::int8)) return;
  const int32_t limit = onednn->int8_input_limit();
  CHECK((limit == kInt8FullInputLimit || limit == kInt8NarrowInputLimit));
  for (const int64_t in : {2, 64, 256, 1024}) {
    CAPTURE(in);
    const Tensor x = Tensor::empty(Shape{3, in}), w = Tensor::empty(Shape{in, 16});
    std::fill(x.f32(), x.f32() + x.numel(), 2.0f);
    std::fill(w.f32(), w.f32() + w.numel(), 0.5f);
    for (int64_t n = 8; n < 16; ++n) w.f32()[n] = -0.5f;  // row 0 of the columns 8–15 negative
    const Tensor y = product(*onednn, x, w, false, Precision::int8, nullptr);
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t n = 0; n < 16; ++n) {
        const double expected = n < 8 ? static_cast<double>(in) : static_cast<double>(in) - 2.0;
        CHECK(y.f32()[r * 16 + n] == doctest::Approx(expected).epsilon(1e-6));
      }
  }
}

TEST_CASE("an int8 product quantises each input row on its own: a row's result does not depend on its batch") {
  for (BackendKind kind : {BackendKind::onednn, BackendKind::reference}) {
    const auto be = make_backend(kind);
    if (!be->supports(Precision::int8)) continue;
    Rng rng(5);
    const Tensor w = random_tensor(Shape{64, 24}, rng);
    Tensor batch = random_tensor(Shape{3, 64}, rng);
    for (int64_t k = 0; k < 64; ++k) batch.f32()[2 * 64 + k] *= 1000.0f;  // a row 1,000× larger than the others
    const Tensor alone = Tensor::empty(Shape{1, 64});
    std::copy(batch.f32(), batch.f32() + 64, alone.f32());
    const Tensor y_batch = product(*be, batch, w, false, Precision::int8, nullptr);
    const Tensor y_alone = product(*be, alone, w, false, Precision::int8, nullptr);
    for (int64_t n = 0; n < 24; ++n) CHECK(y_batch.f32()[n] == y_alone.f32()[n]);
    // and the small row kept its precision beside the large one
    const Tensor exact = exact_product(alone, w, false, nullptr);
    CHECK(normalized_error(y_alone, exact) < 3e-2);
  }
}

TEST_CASE("a weight prepared once serves every backend of its kind, and only those") {
  const auto maker = make_backend(BackendKind::onednn);
  const auto worker = make_backend(BackendKind::onednn);
  const auto reference = make_backend(BackendKind::reference);
  Rng rng(5);
  const Tensor x = random_tensor(Shape{9, 40}, rng), w = random_tensor(Shape{40, 24}, rng);
  for (Precision p : {Precision::f32, Precision::bf16, Precision::int8}) {
    if (!maker->supports(p)) continue;
    const auto prepared = maker->prepare_weight(w, false, p);
    Tensor a = Tensor::empty(Shape{9, 24}), b = Tensor::empty(Shape{9, 24});
    maker->matmul(x, *prepared, nullptr, a);
    worker->matmul(x, *prepared, nullptr, b);
    CHECK(normalized_error(a, b) == 0.0);
    CHECK_THROWS_WITH_AS(reference->matmul(x, *prepared, nullptr, b), doctest::Contains("another kind of backend"), Error);
  }
  Tensor wrong = Tensor::empty(Shape{9, 23});
  CHECK_THROWS_WITH_AS(maker->matmul(x, *maker->prepare_weight(w, false, Precision::f32), nullptr, wrong),
                       doctest::Contains("do not chain"), Error);
}

TEST_CASE("bf16's speed against f32 is measured once per process; f32 and int8 are not measured") {
  auto be = make_backend(BackendKind::onednn);
  CHECK(be->matmul_speedup(Precision::f32) == 1.0);
  CHECK(be->matmul_speedup(Precision::int8) == 1.0);
  if (!be->supports(Precision::bf16)) return;
  const double first = be->matmul_speedup(Precision::bf16);
  // A ratio of two timings: finite and positive, but no bound on it holds on a busy machine (under
  // ONEDNN_MAX_CPU_ISA=AVX512_CORE, with bf16 converted in software, it fell to 0.03 beside a build).
  CHECK(std::isfinite(first));
  CHECK(first > 0.0);
  CHECK(make_backend(BackendKind::onednn)->matmul_speedup(Precision::bf16) == first);  // once per process
  CHECK(be->matmul_precision() == Precision::f32);  // measuring leaves the backend as it was
  CHECK(make_backend(BackendKind::reference)->matmul_speedup(Precision::bf16) == 1.0);
}

TEST_CASE("a large tied output table is read in place at f32, and gives the reference's product") {
  const auto onednn = make_backend(BackendKind::onednn);
  auto reference = std::make_unique<ReferenceBackend>(onednn->int8_input_limit());
  Rng rng(5);
  const Tensor table = random_tensor(Shape{25000, 512}, rng);  // 51 MB: past the in-place threshold
  const Tensor x = random_tensor(Shape{3, 512}, rng, -3.0f, 3.0f);
  const auto prepared = onednn->prepare_weight(table, true, Precision::f32);
  CHECK(prepared->bytes() == 0);  // no copy of its own
  const auto small = onednn->prepare_weight(random_tensor(Shape{64, 512}, rng), true, Precision::f32);
  CHECK(small->bytes() > 0);      // a small table is copied into the blocked layout
  CHECK(normalized_error(product(*onednn, x, table, true, Precision::f32, nullptr),
                         product(*reference, x, table, true, Precision::f32, nullptr)) <= 1e-5);
}
