// The reference backend's prepared weights: the arithmetic of prepared_weight.h stated as plain
// loops, rounding and quantising exactly as it specifies, so that the oneDNN backend's bf16 and
// int8 products can be held to it (the integer products of int8 to the last bit).

#include <cmath>
#include <vector>

#include "heed/backend/reference/reference_backend.h"
#include "heed/core/error.h"
#include "heed/core/half.h"

namespace heed {
namespace {

class ReferenceWeight final : public PreparedWeight {
 public:
  ReferenceWeight(Precision p, int64_t in, int64_t out) : PreparedWeight(p, in, out), values(in * out), column_scales(out, 1.0f) {}
  int64_t bytes() const override { return static_cast<int64_t>((values.size() + column_scales.size()) * sizeof(float)); }

  std::vector<float> values;         // [in, out]: f32, bf16-rounded, or int8 codes
  std::vector<float> column_scales;  // int8: w[:, n] ≈ values[:, n] · column_scales[n]
};

float round_to_bf16(float v) { return bf16_to_float(float_to_bf16(v)); }

}  // namespace

std::shared_ptr<const PreparedWeight> ReferenceBackend::do_prepare_weight(const Tensor& w, bool transposed, Precision p) {
  const int64_t in = transposed ? w.shape()[1] : w.shape()[0], out = transposed ? w.shape()[0] : w.shape()[1];
  auto prepared = std::make_shared<ReferenceWeight>(p, in, out);
  const float* values = w.f32();
  const auto at = [&](int64_t k, int64_t n) { return transposed ? values[n * in + k] : values[k * out + n]; };
  for (int64_t n = 0; n < out; ++n) {
    float m = 0.0f;
    for (int64_t k = 0; k < in; ++k) m = std::max(m, std::fabs(at(k, n)));
    const float scale = p == Precision::int8 ? int8_weight_step(m) : 1.0f;
    prepared->column_scales[n] = scale;
    for (int64_t k = 0; k < in; ++k) {
      const float v = at(k, n);
      prepared->values[k * out + n] = p == Precision::bf16 ? round_to_bf16(v)
                                      : p == Precision::int8 ? static_cast<float>(int8_weight_code(v, scale))
                                                             : v;
    }
  }
  return prepared;
}

void ReferenceBackend::do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) {
  const auto* weight = dynamic_cast<const ReferenceWeight*>(&w);
  HEED_CHECK(weight != nullptr, "the reference backend was handed a weight prepared by another kind of backend");
  const int64_t rows = x.shape()[0], in = w.in(), out = w.out();
  const Precision p = w.precision();

  // x as the product reads it; int8: each row with its own step, max|row| / limit
  std::vector<float> input(x.f32(), x.f32() + x.numel());
  std::vector<float> row_steps(static_cast<size_t>(rows), 1.0f);
  if (p == Precision::bf16) {
    for (float& v : input) v = round_to_bf16(v);
  } else if (p == Precision::int8) {
    const auto limit = static_cast<float>(int8_input_limit_);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = input.data() + r * in;
      float m = 0.0f;
      for (int64_t k = 0; k < in; ++k) m = std::max(m, std::fabs(row[k]));
      const float input_scale = m > 0.0f ? limit / m : 1.0f;
      row_steps[static_cast<size_t>(r)] = int8_input_step(m, int8_input_limit_);
      for (int64_t k = 0; k < in; ++k) row[k] = std::max(-limit, std::min(limit, std::nearbyint(row[k] * input_scale)));
    }
  }

  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < out; ++n) {
      double sum = 0.0;  // exact for int8 codes (|sum| < 2⁵³) and for products of bf16 values
      for (int64_t k = 0; k < in; ++k) sum += static_cast<double>(input[r * in + k]) * weight->values[k * out + n];
      float value = static_cast<float>(sum);
      if (p == Precision::int8) value = value * (weight->column_scales[n] * row_steps[static_cast<size_t>(r)]);
      y.f32()[r * out + n] = value + (bias ? bias->f32()[n] : 0.0f);
    }
}

}  // namespace heed
