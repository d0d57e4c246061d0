// The oneDNN backend's prepared weights (prepared_weight.h): reordered once into the blocked
// layout oneDNN's matmul kernels choose (AMX tiles on an AMX CPU), in f32, bf16 or int8
// (`heed bench ops` compares them with the plain f32 matmul at decoding's shapes).
//
// int8 scales: oneDNN 2.6 runs scales given at execution time ("runtime output scales") only on
// its generic gemm kernels, not on AMX; scales fixed when the primitive is made would need one
// primitive per weight and row count; and scales as binary post-ops with a per-column operand
// cost several times the product itself. So the product writes its exact
// 32-bit sums and one loop here scales them per column and per input row and adds the bias
// (dequantize()).
//
// int8 input: x's codes p ∈ [−L, L] are stored shifted, as u8 p + L + 1, and the weight's
// column sums take the shift back out: Σ (p + L + 1) q = Σ p q + (L + 1) Σ q. The sums are the
// same integers; u8 · s8 is the form VNNI multiplies natively, and for a single row oneDNN 2.6
// has only its reference loops for s8 · s8, hundreds of times slower (greedy decoding's last
// sentence of a batch is such a row). L is 127, or 63 on a CPU without VNNI (runtime_info.h), whose
// u8 · s8 instruction adds pairs of products in saturating 16 bits.

#include <cmath>

#include "heed/backend/onednn/backend_state.h"
#include "heed/backend/onednn/runtime_info.h"
#include "heed/core/error.h"

namespace heed {
namespace {

using namespace onednn_detail;
using dnnl::memory;
using Dims = memory::dims;
using dt = memory::data_type;

constexpr int64_t kPackRows = 64;  // the row count the blocked layout is chosen for (any works)

dt weight_type(Precision p) {
  switch (p) {
    case Precision::bf16: return dt::bf16;
    case Precision::int8: return dt::s8;
    case Precision::f32: break;
  }
  return dt::f32;
}

dt input_type(Precision p) { return p == Precision::int8 ? dt::u8 : weight_type(p); }

memory::desc plain(const Dims& dims, dt type) { return memory::desc(dims, type, memory::format_tag::ab); }

// int8 products write exact 32-bit sums (dequantize() scales them); f32 and bf16 ones f32 with
// the bias added.
dnnl::matmul::primitive_desc product_desc(Precision p, int64_t rows, const memory::desc& weights, int64_t out,
                                          bool bias, const dnnl::engine& engine) {
  const memory::desc x = plain({rows, weights.dims()[0]}, input_type(p));
  const memory::desc y = plain({rows, out}, p == Precision::int8 ? dt::s32 : dt::f32);
  if (p == Precision::int8) return dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, weights, y), engine);
  if (bias) return dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, weights, plain({1, out}, dt::f32), y), engine);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, weights, y), engine);
}

// Tied output tables larger than this are read in place at f32 (see do_prepare_weight).
constexpr size_t kInPlaceTableBytes = size_t{48} << 20;

class OneDnnWeight final : public PreparedWeight {
 public:
  OneDnnWeight(Precision p, int64_t in, int64_t out, const memory::desc& desc)
      : PreparedWeight(p, in, out), desc_(desc), storage_(Tensor::empty(Shape{static_cast<int64_t>(desc.get_size())}, DType::u8)) {}
  // The weight read where it lies, in the layout `desc` describes: no copy of its own.
  OneDnnWeight(Precision p, int64_t in, int64_t out, const memory::desc& desc, const Tensor& values)
      : PreparedWeight(p, in, out), desc_(desc), storage_(values), own_storage_(false) {}
  int64_t bytes() const override {
    return (own_storage_ ? storage_.bytes() : 0) +
           (column_scales_.defined() ? column_scales_.bytes() + column_shifts_.bytes() : 0);
  }

  memory::desc desc_;     // the blocked layout (or the values' own, when not copied)
  Tensor storage_;        // its bytes
  bool own_storage_ = true;
  Tensor column_scales_;  // int8: f32 [out], w[:, n] ≈ q[:, n] · column_scales_[n]
  Tensor column_shifts_;  // int8: i32 [out], (L + 1) · Σ_k q[k, n]: what the input's shift adds
  int32_t input_limit_ = kInt8FullInputLimit;  // int8: L, the input codes' limit
};

// An empty weight in the blocked layout oneDNN's products read.
std::shared_ptr<OneDnnWeight> packed_weight(Precision p, int64_t in, int64_t out, const dnnl::engine& engine) {
  const memory::desc any(Dims{in, out}, weight_type(p), memory::format_tag::any);
  try {
    return std::make_shared<OneDnnWeight>(p, in, out, product_desc(p, kPackRows, any, out, true, engine).weights_desc());
  } catch (const dnnl::error& e) {
    fail("oneDNN has no {} matmul for a weight [{}, {}]: {}", precision_name(p), in, out, e.what());
  }
}

// The source as oneDNN reads it, plain [in, out] or transposed [out, in], reordered into the
// weight's blocked layout.
void reorder_into(OneDnnWeight& prepared, const void* source, dt type, bool transposed, const dnnl::engine& engine,
                  dnnl::stream& stream) {
  const int64_t in = prepared.in(), out = prepared.out();
  const memory::desc source_desc = transposed ? memory::desc(Dims{in, out}, type, Dims{1, in}) : plain({in, out}, type);
  memory from(source_desc, engine, const_cast<void*>(source));
  memory to(prepared.desc_, engine, prepared.storage_.raw());
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
}

// codes[r, k] = round(x[r, k] / steps[r]) + limit + 1 with steps[r] = max|x[r, :]| / limit (0 for
// a zero row), rounded to nearest even; no code saturates. Compiled for AVX-512 and AVX2 besides
// the baseline, picked at load time: the baseline (SSE2) loops took as long as the int8 product.
__attribute__((target_clones("avx512f", "avx2", "default")))
void quantize_rows(const float* x, int64_t rows, int64_t cols, int32_t limit, uint8_t* codes, float* steps) {
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    const float m = largest_magnitude(row, cols);
    steps[r] = int8_input_step(m, limit);
    const float scale = m > 0.0f ? static_cast<float>(limit) / m : 1.0f;
    uint8_t* out = codes + r * cols;
#pragma omp simd
    for (int64_t k = 0; k < cols; ++k) out[k] = static_cast<uint8_t>(static_cast<int32_t>(std::nearbyint(row[k] * scale)) + limit + 1);
  }
}

// y[r, n] = (sums[r, n] − shifts[n]) · (scales[n] · steps[r]) (+ bias[n]), in place: y and sums
// are the same memory.
__attribute__((target_clones("avx512f", "avx2", "default")))
void dequantize(float* y, int64_t rows, int64_t cols, const int32_t* shifts, const float* scales, const float* steps,
                const float* bias) {
  const int32_t* sums = reinterpret_cast<const int32_t*>(y);
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* s = sums + r * cols;
    float* o = y + r * cols;
    const float step = steps[r];
    if (bias) {
#pragma omp simd
      for (int64_t n = 0; n < cols; ++n) o[n] = static_cast<float>(s[n] - shifts[n]) * (scales[n] * step) + bias[n];
    } else {
#pragma omp simd
      for (int64_t n = 0; n < cols; ++n) o[n] = static_cast<float>(s[n] - shifts[n]) * (scales[n] * step);
    }
  }
}

// Does oneDNN have real kernels (not its reference loops) for this precision here?
bool has_fast_kernels(Precision p, const dnnl::engine& engine) {
  try {
    const memory::desc any(Dims{256, 256}, weight_type(p), memory::format_tag::any);
    const std::string impl = product_desc(p, kPackRows, any, 256, true, engine).impl_info_str();
    return impl.rfind("ref", 0) != 0;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

int32_t OneDnnBackend::int8_input_limit() const { return onednn_int8_input_limit(); }

bool OneDnnBackend::supports(Precision precision) const {
  static const bool bf16 = has_fast_kernels(Precision::bf16, state_->engine);
  static const bool int8 = has_fast_kernels(Precision::int8, state_->engine);
  return precision == Precision::f32 || (precision == Precision::bf16 ? bf16 : int8);
}

std::shared_ptr<const PreparedWeight> OneDnnBackend::do_prepare_weight(const Tensor& w, bool transposed, Precision p) {
  const int64_t in = transposed ? w.shape()[1] : w.shape()[0], out = transposed ? w.shape()[0] : w.shape()[1];
  // A large tied output table [V, D] at f32 (an OPUS-MT model's 58k × 512): read in place,
  // transposed. The embeddings keep reading the same values, so a blocked copy would hold the
  // model's largest matrix twice, and a table this size is streamed from memory at every step
  // whatever its layout. A small one (heed's own 8k × 256) stays in cache, where the blocked
  // layout is read faster.
  if (transposed && p == Precision::f32 && w.bytes() > kInPlaceTableBytes)
    return std::make_shared<OneDnnWeight>(p, in, out, memory::desc(Dims{in, out}, dt::f32, Dims{1, in}), w);
  if (p == Precision::int8) {
    Tensor codes = Tensor::empty(w.shape(), DType::i8), steps = Tensor::empty(Shape{out});
    int8_quantize_channels(w.f32(), w.shape()[0], w.shape()[1], transposed ? 0 : 1, codes.data<int8_t>(), steps.f32());
    return do_prepare_int8_weight(codes, steps, transposed);
  }
  auto prepared = packed_weight(p, in, out, state_->engine);
  reorder_into(*prepared, w.f32(), dt::f32, transposed, state_->engine, state_->stream);
  return prepared;
}

std::shared_ptr<const PreparedWeight> OneDnnBackend::do_prepare_int8_weight(const Tensor& codes, const Tensor& steps, bool transposed) {
  const int64_t in = codes.shape()[transposed ? 1 : 0], out = codes.shape()[transposed ? 0 : 1];
  auto prepared = packed_weight(Precision::int8, in, out, state_->engine);
  prepared->column_scales_ = Tensor::empty(Shape{out});
  prepared->column_scales_.copy_from(steps);
  prepared->column_shifts_ = Tensor::empty(Shape{out}, DType::i32);
  prepared->input_limit_ = int8_input_limit();
  // Each output channel's code sum, times the shift of the unsigned inputs (see quantize_rows).
  const int8_t* q = codes.data<int8_t>();
  int32_t* shifts = prepared->column_shifts_.data<int32_t>();
  std::fill(shifts, shifts + out, 0);
  if (transposed) {
    for (int64_t n = 0; n < out; ++n)
      for (int64_t k = 0; k < in; ++k) shifts[n] += q[n * in + k];
  } else {
    for (int64_t k = 0; k < in; ++k)
      for (int64_t n = 0; n < out; ++n) shifts[n] += q[k * out + n];
  }
  for (int64_t n = 0; n < out; ++n) shifts[n] *= prepared->input_limit_ + 1;
  reorder_into(*prepared, q, dt::s8, transposed, state_->engine, state_->stream);
  return prepared;
}

namespace {

// Where x [rows, in] goes in the weight's precision: nowhere for f32 (x itself is the input);
// int8 codes and each row's quantisation step (max|x[r, :]| / 127); bf16 values.
struct LowPrecisionInput {
  void* values = nullptr;
  float* row_steps = nullptr;
};

LowPrecisionInput low_precision_input(onednn_detail::Scratch& values, onednn_detail::Scratch& steps, Precision p,
                                      int64_t rows, int64_t in) {
  if (p == Precision::int8) return {values.bytes(rows * in), static_cast<float*>(steps.bytes(rows * static_cast<int64_t>(sizeof(float))))};
  if (p == Precision::bf16) return {values.bytes(rows * in * 2), nullptr};
  return {};
}

}  // namespace

void OneDnnBackend::reserve_matmul_scratch(const Tensor& x, const PreparedWeight& w) {
  low_precision_input(state_->low_precision_input, state_->row_steps, w.precision(), x.shape()[0], w.in());
}

void OneDnnBackend::do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) {
  const auto* weight = dynamic_cast<const OneDnnWeight*>(&w);
  HEED_CHECK(weight != nullptr, "the oneDNN backend was handed a weight prepared by another kind of backend");
  const Precision p = w.precision();
  const int64_t rows = x.shape()[0], in = w.in(), out = w.out();
  State& s = *state_;

  // x in the weight's precision: rounded to bf16, or quantised with a step per row.
  const void* input = x.raw();
  const LowPrecisionInput converted = low_precision_input(s.low_precision_input, s.row_steps, p, rows, in);
  float* row_steps = converted.row_steps;
  if (p == Precision::int8) {
    quantize_rows(x.f32(), rows, in, weight->input_limit_, static_cast<uint8_t*>(converted.values), row_steps);
    input = converted.values;
  } else if (p == Precision::bf16) {
    round_to_bf16(x.f32(), static_cast<uint16_t*>(converted.values), x.numel());
    input = converted.values;
  }

  PrimitiveKey key = key_for(Op::prepared_matmul);
  // The weight's layout too: blocked as oneDNN chose, or a table read in place, transposed.
  key.add(static_cast<int64_t>(p)).add(rows).add(in).add(out).add(static_cast<int64_t>(bias != nullptr))
      .add(static_cast<int64_t>(weight->own_storage_));
  CachedPrimitive& product = s.cache.get(key, [&] {
    return build_or_fail("a prepared matmul", [&] {
      const auto pd = product_desc(p, rows, weight->desc_, out, bias != nullptr, s.engine);
      CachedPrimitive built;
      built.primitive = dnnl::matmul(pd);
      built.declare(DNNL_ARG_SRC, pd.src_desc(), s.engine);
      built.declare(DNNL_ARG_WEIGHTS, weight->desc_, s.engine);
      built.declare(DNNL_ARG_DST, pd.dst_desc(), s.engine);
      if (p != Precision::int8 && bias) {
        built.declare(DNNL_ARG_BIAS, plain({1, out}, dt::f32), s.engine);
      }
      return built;
    });
  });
  product.bind(DNNL_ARG_SRC, input);
  product.bind(DNNL_ARG_WEIGHTS, weight->storage_.raw());
  product.bind(DNNL_ARG_DST, y.raw());
  if (p != Precision::int8 && bias) product.bind(DNNL_ARG_BIAS, bias->raw());
  product.run(s.stream);
  if (p == Precision::int8)
    dequantize(y.f32(), rows, out, weight->column_shifts_.data<int32_t>(), weight->column_scales_.f32(), row_steps,
               bias ? bias->f32() : nullptr);
}

}  // namespace heed
