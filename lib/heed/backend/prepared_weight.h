#pragma once
// PreparedWeight: a weight matrix W [in, out] turned, once, into what a backend's matmul reads
// fastest for products x · W, in a chosen precision:
//   f32   the same values, in the kernel's blocked layout (oneDNN reorders them once, not per call)
//   bf16  values rounded to bfloat16; x is rounded to bf16 per call; products summed in f32
//   int8  values quantised per output column (w ≈ q · scale[n], q in [−127, 127]); x quantised
//         per call, each row with its own step (x[r, :] ≈ p[r, :] · s[r], s[r] = max|x[r, :]| / L,
//         p in [−L, L], so that a row's result does not depend on the other rows of its batch);
//         the integer products summed exactly in 32 bits, then scaled back to f32:
//         y[r, n] = sum[r, n] · (scale[n] · s[r]) + bias[n]
//         L, the input limit, is the backend's (Backend::int8_input_limit): 127, or 63 where
//         the CPU's int8 instructions would otherwise not sum exactly (kInt8NarrowInputLimit).
// Translation prepares its weights once and every worker reads them; training never does (its
// weights change every update). Softmax, layer norm and everything else stay f32.

#include <cmath>
#include <cstdint>
#include <string_view>

namespace heed {

// The int8 rule every weight quantisation shares (each backend's prepare, int8 model files): a
// channel's step is max|w| / 127 over the channel (1 for an all-zero channel) and each code is
// round(w / step), in [−127, 127]. One definition, so that preparing the values dequantised from
// an int8 file gives back exactly the codes the file holds.
inline float int8_weight_step(float max_abs) { return max_abs > 0.0f ? max_abs / 127.0f : 1.0f; }
inline int8_t int8_weight_code(float w, float step) { return static_cast<int8_t>(std::nearbyint(w / step)); }
// max |x[i]| over n floats (0 for none): a channel's or an int8 input row's scale, vectorised.
float largest_magnitude(const float* x, int64_t n);
// That rule over a whole row-major [rows, cols] matrix, a step per channel (channel_axis 1: one per
// column; 0: one per row) into steps, codes in the matrix's own layout. The same codes as
// int8_weight_code, element by element, in a few milliseconds for a model: a model's load
// quantises 7 M weights with it (std::nearbyint is a library call per element on baseline x86-64).
void int8_quantize_channels(const float* values, int64_t rows, int64_t cols, int channel_axis, int8_t* codes, float* steps);
// Its inverse: values[i] = codes[i] · steps[channel of i].
void int8_dequantize_channels(const int8_t* codes, const float* steps, int64_t rows, int64_t cols, int channel_axis, float* values);

// An int8 input row's codes lie in [−limit, limit]. 8 bits where the CPU sums each u8 · s8
// product in 32 bits (VNNI, AMX); 7 bits where it adds pairs of them in saturating 16 bits first
// (vpmaddubsw: SSE4.1, AVX2 and AVX-512 without VNNI), since a pair of 8-bit products, up to
// 2 · 255 · 127 with the inputs stored unsigned, overflows 2¹⁵ − 1, and a pair of 7-bit ones,
// 2 · 127 · 127, does not (the shift that makes the codes unsigned is limit + 1).
inline constexpr int32_t kInt8FullInputLimit = 127;
inline constexpr int32_t kInt8NarrowInputLimit = 63;
// x's quantisation step for a row whose largest magnitude is max_abs (0 for a zero row).
inline float int8_input_step(float max_abs, int32_t limit) { return max_abs > 0.0f ? max_abs / static_cast<float>(limit) : 0.0f; }

enum class Precision : uint8_t { f32, bf16, int8 };

std::string_view precision_name(Precision precision);
// "f32", "bf16" or "int8"; throws naming `what` otherwise.
Precision parse_precision(std::string_view text, std::string_view what);

class PreparedWeight {
 public:
  PreparedWeight(Precision precision, int64_t in, int64_t out) : precision_(precision), in_(in), out_(out) {}
  virtual ~PreparedWeight() = default;
  PreparedWeight(const PreparedWeight&) = delete;
  PreparedWeight& operator=(const PreparedWeight&) = delete;

  Precision precision() const { return precision_; }
  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  virtual int64_t bytes() const = 0;  // memory the prepared copy holds (0 for a view of the original)

 private:
  Precision precision_;
  int64_t in_, out_;
};

}  // namespace heed
