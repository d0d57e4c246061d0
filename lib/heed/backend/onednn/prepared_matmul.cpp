// The oneDNN backend's prepared weights (prepared_weight.h): reordered once into the blocked
// layout oneDNN's matmul kernels choose (AMX tiles on an AMX CPU), in f32, bf16 or int8.
//
// Measured on a 2-core Xeon with AMX, one thread, at decoding shapes (128 rows × 256 × N):
// against the plain f32 matmul, the packed f32 weight is 0.98–1.42× as fast, bf16 4.5–6.8×
// (converting x included), int8 2.1–3.0× at 128 rows (quantising x included; `heed bench ops`).
//
// int8 scales: oneDNN 2.6 runs scales given at execution time ("runtime output scales") only on
// its generic gemm kernels, not on AMX, so the per-column weight scales and the per-call input
// scale are applied as binary multiplications after the product (post-ops, also AMX kernels),
// which keeps one primitive per shape for every weight of that shape.

#include <cmath>

#include "heed/backend/onednn/backend_state.h"
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

memory::desc plain(const Dims& dims, dt type) { return memory::desc(dims, type, memory::format_tag::ab); }

// The int8 product's post-ops: y = (x·q) · column_scales · input_scale (+ bias)
dnnl::primitive_attr int8_attributes(int64_t out, bool bias) {
  dnnl::post_ops post_ops;
  post_ops.append_binary(dnnl::algorithm::binary_mul, plain({1, out}, dt::f32));
  post_ops.append_binary(dnnl::algorithm::binary_mul, plain({1, 1}, dt::f32));
  if (bias) post_ops.append_binary(dnnl::algorithm::binary_add, plain({1, out}, dt::f32));
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  return attr;
}

dnnl::matmul::primitive_desc product_desc(Precision p, int64_t rows, const memory::desc& weights, int64_t out,
                                          bool bias, const dnnl::engine& engine) {
  const memory::desc x = plain({rows, weights.dims()[0]}, weight_type(p));
  const memory::desc y = plain({rows, out}, dt::f32);
  if (p == Precision::int8)
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, weights, y), int8_attributes(out, bias), engine);
  if (bias) return dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, weights, plain({1, out}, dt::f32), y), engine);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(x, weights, y), engine);
}

class OneDnnWeight final : public PreparedWeight {
 public:
  OneDnnWeight(Precision p, int64_t in, int64_t out, const memory::desc& desc)
      : PreparedWeight(p, in, out), desc_(desc), storage_(Tensor::empty(Shape{static_cast<int64_t>(desc.get_size())}, DType::u8)) {}
  int64_t bytes() const override { return storage_.bytes() + (column_scales_.defined() ? column_scales_.bytes() : 0); }

  memory::desc desc_;     // the blocked layout
  Tensor storage_;        // its bytes
  Tensor column_scales_;  // int8: f32 [out], w[:, n] ≈ q[:, n] · column_scales_[n]
};

// max |x| over n floats. Compiled for AVX-512 and AVX2 besides the baseline, picked at load
// time: the baseline (SSE2) loop took as long as the int8 product it prepares.
__attribute__((target_clones("avx512f", "avx2", "default")))
float max_abs(const float* x, int64_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
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

bool OneDnnBackend::supports(Precision precision) const {
  static const bool bf16 = has_fast_kernels(Precision::bf16, state_->engine);
  static const bool int8 = has_fast_kernels(Precision::int8, state_->engine);
  return precision == Precision::f32 || (precision == Precision::bf16 ? bf16 : int8);
}

std::shared_ptr<const PreparedWeight> OneDnnBackend::do_prepare_weight(const Tensor& w, bool transposed, Precision p) {
  const int64_t in = transposed ? w.shape()[1] : w.shape()[0], out = transposed ? w.shape()[0] : w.shape()[1];
  const memory::desc any(Dims{in, out}, weight_type(p), memory::format_tag::any);
  const memory::desc packed = [&] {
    try {
      return product_desc(p, kPackRows, any, out, true, state_->engine).weights_desc();
    } catch (const dnnl::error& e) {
      fail("oneDNN has no {} matmul for a weight [{}, {}]: {}", precision_name(p), in, out, e.what());
    }
  }();
  auto prepared = std::make_shared<OneDnnWeight>(p, in, out, packed);

  // The source as oneDNN reads it: w itself, or its int8 codes.
  const float* values = w.f32();
  Tensor codes;
  const void* source = values;
  dt source_type = dt::f32;
  const auto at = [&](int64_t k, int64_t n) { return transposed ? values[n * in + k] : values[k * out + n]; };
  if (p == Precision::int8) {
    prepared->column_scales_ = Tensor::empty(Shape{out});
    codes = Tensor::empty(Shape{in, out}, DType::i8);
    float* scales = prepared->column_scales_.f32();
    int8_t* q = codes.data<int8_t>();
    for (int64_t n = 0; n < out; ++n) {
      float m = 0.0f;
      for (int64_t k = 0; k < in; ++k) m = std::max(m, std::fabs(at(k, n)));
      scales[n] = m > 0.0f ? m / 127.0f : 1.0f;
      for (int64_t k = 0; k < in; ++k) q[k * out + n] = static_cast<int8_t>(std::nearbyint(at(k, n) / scales[n]));
    }
    source = q;
    source_type = dt::s8;
    transposed = false;
  }
  const memory::desc source_desc =
      transposed ? memory::desc(Dims{in, out}, source_type, Dims{1, in}) : plain({in, out}, source_type);
  memory from(source_desc, state_->engine, const_cast<void*>(source));
  memory to(packed, state_->engine, prepared->storage_.raw());
  dnnl::reorder(from, to).execute(state_->stream, from, to);
  state_->stream.wait();
  return prepared;
}

void OneDnnBackend::do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) {
  const auto* weight = dynamic_cast<const OneDnnWeight*>(&w);
  HEED_CHECK(weight != nullptr, "the oneDNN backend was handed a weight prepared by another kind of backend");
  const Precision p = w.precision();
  const int64_t rows = x.shape()[0], in = w.in(), out = w.out();
  State& s = *state_;

  // x in the weight's precision: rounded to bf16, or quantised with one scale for all of it.
  const void* input = x.raw();
  if (p != Precision::f32) {
    void* converted = s.low_precision_input.bytes(rows * in * (p == Precision::bf16 ? 2 : 1));
    if (p == Precision::int8) {
      const float m = max_abs(x.f32(), x.numel());
      s.input_scale = m > 0.0f ? 127.0f / m : 1.0f;
      s.output_scale = m > 0.0f ? m / 127.0f : 0.0f;
    }
    PrimitiveKey key = key_for(p == Precision::bf16 ? Op::to_bf16 : Op::quantize);
    key.add(rows).add(in);
    CachedPrimitive& convert = s.cache.get(key, [&] {
      return build_or_fail("an input conversion", [&] {
        const memory::desc from = plain({rows, in}, dt::f32), to = plain({rows, in}, weight_type(p));
        dnnl::primitive_attr attr;
        if (p == Precision::int8) attr.set_output_scales(0, {DNNL_RUNTIME_F32_VAL});
        CachedPrimitive built;
        built.primitive = dnnl::reorder(dnnl::reorder::primitive_desc(s.engine, from, s.engine, to, attr));
        built.declare(DNNL_ARG_FROM, from, s.engine);
        built.declare(DNNL_ARG_TO, to, s.engine);
        if (p == Precision::int8) built.declare(DNNL_ARG_ATTR_OUTPUT_SCALES, plain({1, 1}, dt::f32).reshape({1}), s.engine);
        return built;
      });
    });
    convert.bind(DNNL_ARG_FROM, x.raw());
    convert.bind(DNNL_ARG_TO, converted);
    if (p == Precision::int8) convert.bind(DNNL_ARG_ATTR_OUTPUT_SCALES, &s.input_scale);
    convert.run(s.stream);
    input = converted;
  }

  PrimitiveKey key = key_for(Op::prepared_matmul);
  key.add(static_cast<int64_t>(p)).add(rows).add(in).add(out).add(static_cast<int64_t>(bias != nullptr));
  CachedPrimitive& product = s.cache.get(key, [&] {
    return build_or_fail("a prepared matmul", [&] {
      const auto pd = product_desc(p, rows, weight->desc_, out, bias != nullptr, s.engine);
      CachedPrimitive built;
      built.primitive = dnnl::matmul(pd);
      built.declare(DNNL_ARG_SRC, pd.src_desc(), s.engine);
      built.declare(DNNL_ARG_WEIGHTS, weight->desc_, s.engine);
      built.declare(DNNL_ARG_DST, pd.dst_desc(), s.engine);
      if (p == Precision::int8) {
        built.declare(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, plain({1, out}, dt::f32), s.engine);
        built.declare(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, plain({1, 1}, dt::f32), s.engine);
        if (bias) built.declare(DNNL_ARG_ATTR_MULTIPLE_POST_OP(2) | DNNL_ARG_SRC_1, plain({1, out}, dt::f32), s.engine);
      } else if (bias) {
        built.declare(DNNL_ARG_BIAS, plain({1, out}, dt::f32), s.engine);
      }
      return built;
    });
  });
  product.bind(DNNL_ARG_SRC, input);
  product.bind(DNNL_ARG_WEIGHTS, weight->storage_.raw());
  product.bind(DNNL_ARG_DST, y.raw());
  if (p == Precision::int8) {
    product.bind(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, weight->column_scales_.raw());
    product.bind(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, &s.output_scale);
    if (bias) product.bind(DNNL_ARG_ATTR_MULTIPLE_POST_OP(2) | DNNL_ARG_SRC_1, bias->raw());
  } else if (bias) {
    product.bind(DNNL_ARG_BIAS, bias->raw());
  }
  product.run(s.stream);
}

}  // namespace heed
