#include "heed/backend/onednn/onednn_backend.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <utility>

#include <oneapi/dnnl/dnnl.hpp>

#include "heed/backend/onednn/backend_state.h"
#include "heed/backend/onednn/vector_math.h"
#include "heed/core/error.h"
#include "heed/core/rng.h"

namespace heed {
namespace {

using namespace onednn_detail;

using dnnl::memory;
using Dims = memory::dims;
constexpr auto f32 = memory::data_type::f32;

// Below this many elements an OpenMP fork costs more than the loop it would split.
constexpr int64_t kParallelThreshold = 1 << 15;

Dims row_major_strides(const Dims& dims) {
  Dims strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

memory::desc plain_desc(const Dims& dims) { return memory::desc(dims, f32, row_major_strides(dims)); }
memory::desc plain_desc(const Shape& shape) { return plain_desc(Dims(shape.begin(), shape.end())); }
memory::desc matrix_desc(const Shape& shape) { return plain_desc(Dims{shape.rows(), shape.cols()}); }
memory::desc vector_desc(int64_t n) { return plain_desc(Dims{n}); }

// A matmul operand as oneDNN sees it: logical dims [batch..., rows, cols] padded with leading
// 1s to `rank`; a transposed operand is the same memory with its last two strides swapped.
memory::desc operand_desc(const Shape& shape, int rank, bool transposed, memory::data_type type = f32) {
  const int missing = rank - shape.rank();
  Dims dims(rank);
  for (int i = 0; i < rank; ++i) dims[i] = i < missing ? 1 : shape[i - missing];
  Dims strides = row_major_strides(dims);
  if (transposed) {
    std::swap(dims[rank - 2], dims[rank - 1]);
    std::swap(strides[rank - 2], strides[rank - 1]);
  }
  return memory::desc(dims, type, strides);
}

// Compiled for AVX-512 and AVX2 besides the baseline, picked at load time; file-local because
// clang links target_clones functions only from their own translation unit.
__attribute__((target_clones("avx512f", "avx2", "default")))
void round_to_bf16_loop(const float* x, uint16_t* y, int64_t n) {
#pragma omp parallel for simd if (n > 4 * kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t f = std::bit_cast<uint32_t>(x[i]);
    y[i] = static_cast<uint16_t>((f + 0x7FFFu + ((f >> 16) & 1u)) >> 16);
  }
}

dnnl::algorithm activation_algorithm(Activation kind) {
  switch (kind) {
    case Activation::relu: return dnnl::algorithm::eltwise_relu;
    case Activation::gelu: return dnnl::algorithm::eltwise_gelu_erf;
    case Activation::swish: return dnnl::algorithm::eltwise_swish;
  }
  fail("unknown activation {}", static_cast<int>(kind));
}

// oneDNN's parameter of the activation: swish's β in x · σ(βx), 1; relu's negative slope, 0.
float activation_alpha(Activation kind) { return kind == Activation::swish ? 1.0f : 0.0f; }

dnnl::algorithm softmax_algorithm(bool log) {
  return log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
}

void add_into(float* dst, const float* src, int64_t n) {
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace

// A plain function: clang resolves a target_clones function only inside its own file.
void onednn_detail::round_to_bf16(const float* x, uint16_t* y, int64_t n) { round_to_bf16_loop(x, y, n); }

OneDnnBackend::OneDnnBackend() : state_(std::make_unique<State>()) {
  // oneDNN keeps its own cache of compiled kernels beneath heed's (1,024 by default); what either
  // holds stays in memory, so both are bounded alike.
  static const bool bounded = [] {
    dnnl::set_primitive_cache_capacity(static_cast<int>(PrimitiveCache::kDefaultCapacity));
    return true;
  }();
  (void)bounded;
}
OneDnnBackend::~OneDnnBackend() = default;

PrimitiveCacheStats OneDnnBackend::cache_stats() const {
  return {state_->cache.size(), state_->cache.hits(), state_->cache.misses()};
}

void OneDnnBackend::clear_cache() { state_->cache.clear(); }
void OneDnnBackend::set_cache_capacity(size_t primitives) { state_->cache.set_capacity(primitives); }

void OneDnnBackend::set_library_cache_capacity(int capacity) { dnnl::set_primitive_cache_capacity(capacity); }

// oneDNN's backward primitives overwrite their outputs. To add into a gradient instead, they
// write to scratch, and finish_gradient() adds the scratch into the target.
float* OneDnnBackend::gradient_buffer(const Tensor& dx, Accumulate acc) {
  return acc == Accumulate::yes ? state_->gradient_scratch.floats(dx.numel()) : dx.f32();
}

void OneDnnBackend::finish_gradient(const Tensor& dx, Accumulate acc) {
  if (acc == Accumulate::yes) add_into(dx.f32(), state_->gradient_scratch.floats(dx.numel()), dx.numel());
}

// Host memory: this backend runs on the CPU.

void OneDnnBackend::do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  if (c.numel() == 0) return;
  const int rank = c.shape().rank();
  const bool bf16 = matmul_precision() == Precision::bf16;
  const memory::data_type operand_type = bf16 ? memory::data_type::bf16 : f32;
  PrimitiveKey key = key_for(Op::matmul);
  key.add(a.shape()).add(b.shape()).add(c.shape()).add(static_cast<int64_t>(bf16));
  key.add(static_cast<int64_t>(o.transpose_a)).add(static_cast<int64_t>(o.transpose_b)).add(o.alpha);
  key.add(static_cast<int64_t>(o.bias != nullptr)).add(static_cast<int64_t>(o.accumulate));

  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail("matmul", [&] {
      const memory::desc a_md = operand_desc(a.shape(), rank, o.transpose_a, operand_type);
      const memory::desc b_md = operand_desc(b.shape(), rank, o.transpose_b, operand_type);
      const memory::desc c_md = plain_desc(c.shape());
      Dims bias_dims(rank, 1);
      bias_dims[rank - 1] = c.shape()[-1];
      const memory::desc bias_md = plain_desc(bias_dims);

      dnnl::primitive_attr attr;
      if (o.alpha != 1.0f) attr.set_output_scales(0, {o.alpha});
      dnnl::post_ops post_ops;
      // Applied after the scale: dst = alpha·AB + dst's old value.
      if (o.accumulate == Accumulate::yes) post_ops.append_sum(1.0f);
      attr.set_post_ops(post_ops);

      const auto desc = o.bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md) : dnnl::matmul::desc(a_md, b_md, c_md);
      const dnnl::matmul::primitive_desc pd(desc, attr, state_->engine);
      CachedPrimitive built;
      built.primitive = dnnl::matmul(pd);
      built.declare(DNNL_ARG_SRC, a_md, state_->engine);
      built.declare(DNNL_ARG_WEIGHTS, b_md, state_->engine);
      built.declare(DNNL_ARG_DST, c_md, state_->engine);
      if (o.bias) built.declare(DNNL_ARG_BIAS, bias_md, state_->engine);
      return built;
    });
  });
  if (bf16) {  // the operands as bf16 copies, in the same layout
    auto* a16 = static_cast<uint16_t*>(state_->low_precision_input.bytes(a.numel() * 2));
    auto* b16 = static_cast<uint16_t*>(state_->low_precision_weight.bytes(b.numel() * 2));
    round_to_bf16(a.f32(), a16, a.numel());
    round_to_bf16(b.f32(), b16, b.numel());
    p.bind(DNNL_ARG_SRC, a16);
    p.bind(DNNL_ARG_WEIGHTS, b16);
  } else {
    p.bind(DNNL_ARG_SRC, a.raw());
    p.bind(DNNL_ARG_WEIGHTS, b.raw());
  }
  p.bind(DNNL_ARG_DST, c.raw());
  if (o.bias) p.bind(DNNL_ARG_BIAS, o.bias->raw());
  p.run(state_->stream);
}

// A loop rather than oneDNN's binary primitive, whose execution allocates ~80 small blocks
// per call in oneDNN 2.6 (and an add is memory-bound either way).
void OneDnnBackend::do_add(const Tensor& a, const Tensor& b, const Tensor& c) {
  const int64_t n = a.numel(), m = b.numel();
  const float* pa = a.f32();
  const float* pb = b.f32();
  float* pc = c.f32();
  // b is a's trailing dims (with leading 1s): it repeats every m elements (positions over a batch).
  bool repeats = true;
  for (int axis = 0, lead = a.shape().rank() - b.shape().rank(); axis < b.shape().rank(); ++axis)
    repeats = repeats && (b.shape()[axis] == a.shape()[axis + lead] ||
                          (b.shape()[axis] == 1 && [&] {
                            for (int k = 0; k <= axis; ++k)
                              if (b.shape()[k] != 1) return false;
                            return true;
                          }()));
  if (repeats && m > 0) {
#pragma omp parallel for if (n > kParallelThreshold)
    for (int64_t block = 0; block < n / m; ++block) {
#pragma omp simd
      for (int64_t i = 0; i < m; ++i) pc[block * m + i] = pa[block * m + i] + pb[i];
    }
    return;
  }
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) pc[i] = pa[i] + pb[broadcast_offset(a.shape(), b.shape(), i)];
}

namespace {

dnnl::softmax_v2_forward::primitive_desc softmax_forward_pd(bool log, const memory::desc& md, const dnnl::engine& engine) {
  return dnnl::softmax_v2_forward::primitive_desc(
      dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_training, softmax_algorithm(log), md, md, 1), engine);
}

}  // namespace

void OneDnnBackend::softmax_forward_impl(bool log, const Tensor& x, const Tensor& y) {
  if (x.numel() == 0) return;
  PrimitiveKey key = key_for(log ? Op::log_softmax : Op::softmax);
  key.add(x.shape().rows()).add(x.shape().cols());
  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail(log ? "log_softmax" : "softmax", [&] {
      const auto md = matrix_desc(x.shape());
      CachedPrimitive built;
      built.primitive = dnnl::softmax_v2_forward(softmax_forward_pd(log, md, state_->engine));
      built.declare(DNNL_ARG_SRC, md, state_->engine);
      built.declare(DNNL_ARG_DST, md, state_->engine);
      return built;
    });
  });
  p.bind(DNNL_ARG_SRC, x.raw());
  p.bind(DNNL_ARG_DST, y.raw());
  p.run(state_->stream);
}

namespace {

// oneDNN 2.6's softmax takes no mask: hidden keys are given kMaskedScore first. Its exponential
// underflows to exactly 0, so the visible keys' probabilities are what they would be alone.
void hide_keys(const Tensor& scores, const VisibleKeys& keys) {
  const Shape& s = scores.shape();
  const int64_t heads = s[1], queries = s[2], length = s[3];
  const int32_t* lengths = keys.lengths ? keys.lengths->data<int32_t>() : nullptr;
  float* p = scores.f32();
#pragma omp parallel for collapse(2) if (scores.numel() > kParallelThreshold)
  for (int64_t bh = 0; bh < s[0] * heads; ++bh)
    for (int64_t t = 0; t < queries; ++t) {
      int64_t end = length;
      if (lengths != nullptr) end = std::min<int64_t>(end, lengths[bh / heads]);
      const VisibleKeys::Ranges seen = keys.ranges(keys.first_query + t, end);
      float* row = p + (bh * queries + t) * length;
      std::fill(row + seen.head_end, row + seen.tail_begin, kMaskedScore);
      std::fill(row + seen.tail_end, row + length, kMaskedScore);
    }
}

}  // namespace

void OneDnnBackend::do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) {
  if (!keys.all()) hide_keys(x, keys);
  softmax_forward_impl(false, x, y);
}

void OneDnnBackend::do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) {
  const int64_t length = ids.shape()[1];
  for (int64_t b = 0; b < ids.shape()[0]; ++b) {
    const int32_t* row = ids.data<int32_t>() + b * length;
    lengths.data<int32_t>()[b] = static_cast<int32_t>(std::find(row, row + length, pad_id) - row);
  }
}

void OneDnnBackend::do_log_softmax_forward(const Tensor& x, const Tensor& y) { softmax_forward_impl(true, x, y); }

namespace {

// dx[r, :] = y[r, :] ⊙ (dy[r, :] − Σ_k dy[r, k] y[r, k]), written or added: the softmax's backward
// for CPUs where oneDNN 2.6 has only its reference loops for it (below AVX-512). Compiled for
// AVX-512 and AVX2 besides the baseline.
__attribute__((target_clones("avx512f", "avx2", "default")))
void softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool add) {
#pragma omp parallel for if (rows * cols > kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t k = 0; k < cols; ++k) dot += dyr[k] * yr[k];
    if (add) {
#pragma omp simd
      for (int64_t k = 0; k < cols; ++k) dxr[k] += yr[k] * (dyr[k] - dot);
    } else {
#pragma omp simd
      for (int64_t k = 0; k < cols; ++k) dxr[k] = yr[k] * (dyr[k] - dot);
    }
  }
}

// Whether oneDNN has a real (not reference) kernel for the softmax's backward on this CPU.
bool has_fast_softmax_backward(const dnnl::engine& engine) {
  const memory::desc md(memory::dims{64, 64}, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::softmax_v2_backward::primitive_desc pd(dnnl::softmax_v2_backward::desc(softmax_algorithm(false), md, md, md, 1),
                                                     engine, softmax_forward_pd(false, md, engine));
  return !std::string_view(pd.impl_info_str()).starts_with("ref");
}

}  // namespace

void OneDnnBackend::do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  if (y.numel() == 0) return;
  static const bool fast = has_fast_softmax_backward(state_->engine);
  if (!fast) {
    softmax_backward_rows(y.f32(), dy.f32(), dx.f32(), y.shape().rows(), y.shape().cols(), acc == Accumulate::yes);
    return;
  }
  PrimitiveKey key = key_for(Op::softmax_backward);
  key.add(y.shape().rows()).add(y.shape().cols());
  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail("softmax_backward", [&] {
      const auto md = matrix_desc(y.shape());
      const auto hint = softmax_forward_pd(false, md, state_->engine);
      const dnnl::softmax_v2_backward::primitive_desc pd(
          dnnl::softmax_v2_backward::desc(softmax_algorithm(false), md, md, md, 1), state_->engine, hint);
      CachedPrimitive built;
      built.primitive = dnnl::softmax_v2_backward(pd);
      built.declare(DNNL_ARG_DST, md, state_->engine);
      built.declare(DNNL_ARG_DIFF_DST, md, state_->engine);
      built.declare(DNNL_ARG_DIFF_SRC, md, state_->engine);
      return built;
    });
  });
  p.bind(DNNL_ARG_DST, y.raw());
  p.bind(DNNL_ARG_DIFF_DST, dy.raw());
  p.bind(DNNL_ARG_DIFF_SRC, gradient_buffer(dx, acc));
  p.run(state_->stream);
  finish_gradient(dx, acc);
}

namespace {

const auto kLayerNormFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

dnnl::layer_normalization_forward::primitive_desc layer_norm_forward_pd(const memory::desc& md, float eps,
                                                                        const dnnl::engine& engine) {
  return dnnl::layer_normalization_forward::primitive_desc(
      dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_training, md, eps, kLayerNormFlags), engine);
}

}  // namespace

void OneDnnBackend::do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                                          const Tensor& y, const Tensor& mean, const Tensor& var) {
  if (x.numel() == 0) return;
  PrimitiveKey key = key_for(Op::layer_norm);
  key.add(x.shape().rows()).add(x.shape().cols()).add(eps);
  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail("layer_norm", [&] {
      const auto md = matrix_desc(x.shape());
      const auto pd = layer_norm_forward_pd(md, eps, state_->engine);
      CachedPrimitive built;
      built.primitive = dnnl::layer_normalization_forward(pd);
      built.declare(DNNL_ARG_SRC, md, state_->engine);
      built.declare(DNNL_ARG_DST, md, state_->engine);
      built.declare(DNNL_ARG_SCALE, vector_desc(x.shape().cols()), state_->engine);
      built.declare(DNNL_ARG_SHIFT, vector_desc(x.shape().cols()), state_->engine);
      built.declare(DNNL_ARG_MEAN, pd.mean_desc(), state_->engine);
      built.declare(DNNL_ARG_VARIANCE, pd.variance_desc(), state_->engine);
      return built;
    });
  });
  p.bind(DNNL_ARG_SRC, x.raw());
  p.bind(DNNL_ARG_DST, y.raw());
  p.bind(DNNL_ARG_SCALE, gamma.raw());
  p.bind(DNNL_ARG_SHIFT, beta.raw());
  p.bind(DNNL_ARG_MEAN, mean.raw());
  p.bind(DNNL_ARG_VARIANCE, var.raw());
  p.run(state_->stream);
}

void OneDnnBackend::do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                           const Tensor& mean, const Tensor& var, float eps, const Tensor& dx,
                                           const Tensor& dgamma, const Tensor& dbeta, Accumulate acc) {
  if (x.numel() == 0) return;
  const int64_t cols = x.shape().cols();
  PrimitiveKey key = key_for(Op::layer_norm_backward);
  key.add(x.shape().rows()).add(cols).add(eps);
  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail("layer_norm_backward", [&] {
      const auto md = matrix_desc(x.shape());
      const auto hint = layer_norm_forward_pd(md, eps, state_->engine);
      const dnnl::layer_normalization_backward::primitive_desc pd(
          dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, md, md, eps, kLayerNormFlags),
          state_->engine, hint);
      CachedPrimitive built;
      built.primitive = dnnl::layer_normalization_backward(pd);
      for (int arg : {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}) built.declare(arg, md, state_->engine);
      for (int arg : {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT})
        built.declare(arg, vector_desc(cols), state_->engine);
      built.declare(DNNL_ARG_MEAN, pd.mean_desc(), state_->engine);
      built.declare(DNNL_ARG_VARIANCE, pd.variance_desc(), state_->engine);
      return built;
    });
  });
  float* parameter_grads = state_->parameter_scratch.floats(2 * cols);  // [dgamma | dbeta]
  p.bind(DNNL_ARG_SRC, x.raw());
  p.bind(DNNL_ARG_DIFF_DST, dy.raw());
  p.bind(DNNL_ARG_SCALE, gamma.raw());
  // oneDNN 2.6 insists on a shift argument here although the backward pass never reads it.
  p.bind(DNNL_ARG_SHIFT, gamma.raw());
  p.bind(DNNL_ARG_MEAN, mean.raw());
  p.bind(DNNL_ARG_VARIANCE, var.raw());
  p.bind(DNNL_ARG_DIFF_SRC, gradient_buffer(dx, acc));
  p.bind(DNNL_ARG_DIFF_SCALE, parameter_grads);
  p.bind(DNNL_ARG_DIFF_SHIFT, parameter_grads + cols);
  p.run(state_->stream);
  finish_gradient(dx, acc);
  add_into(dgamma.f32(), parameter_grads, cols);
  add_into(dbeta.f32(), parameter_grads + cols, cols);
}

namespace {

dnnl::eltwise_forward::primitive_desc eltwise_forward_pd(dnnl::algorithm algorithm, float alpha,
                                                         const memory::desc& md, const dnnl::engine& engine) {
  return dnnl::eltwise_forward::primitive_desc(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, algorithm, md, alpha, 0.0f), engine);
}

}  // namespace

void OneDnnBackend::do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  if (x.numel() == 0) return;
  PrimitiveKey key = key_for(Op::activation);
  key.add(static_cast<int64_t>(kind)).add(x.numel());
  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail("activation", [&] {
      const auto md = vector_desc(x.numel());
      CachedPrimitive built;
      built.primitive =
          dnnl::eltwise_forward(eltwise_forward_pd(activation_algorithm(kind), activation_alpha(kind), md, state_->engine));
      built.declare(DNNL_ARG_SRC, md, state_->engine);
      built.declare(DNNL_ARG_DST, md, state_->engine);
      return built;
    });
  });
  p.bind(DNNL_ARG_SRC, x.raw());
  p.bind(DNNL_ARG_DST, y.raw());
  p.run(state_->stream);
}

void OneDnnBackend::do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                                           Accumulate acc) {
  if (x.numel() == 0) return;
  PrimitiveKey key = key_for(Op::activation_backward);
  key.add(static_cast<int64_t>(kind)).add(x.numel());
  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail("activation_backward", [&] {
      const auto md = vector_desc(x.numel());
      const auto algorithm = activation_algorithm(kind);
      const auto hint = eltwise_forward_pd(algorithm, activation_alpha(kind), md, state_->engine);
      const dnnl::eltwise_backward::primitive_desc pd(dnnl::eltwise_backward::desc(algorithm, md, md, activation_alpha(kind), 0.0f),
                                                      state_->engine, hint);
      CachedPrimitive built;
      built.primitive = dnnl::eltwise_backward(pd);
      for (int arg : {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}) built.declare(arg, md, state_->engine);
      return built;
    });
  });
  p.bind(DNNL_ARG_SRC, x.raw());
  p.bind(DNNL_ARG_DIFF_DST, dy.raw());
  p.bind(DNNL_ARG_DIFF_SRC, gradient_buffer(dx, acc));
  p.run(state_->stream);
  finish_gradient(dx, acc);
}

void OneDnnBackend::do_swap_axes_12(const Tensor& x, const Tensor& y) {
  if (x.numel() == 0) return;
  const Shape& s = x.shape();
  PrimitiveKey key = key_for(Op::swap_axes_12);
  key.add(s);
  CachedPrimitive& p = state_->cache.get(key, [&] {
    return build_or_fail("swap_axes_12", [&] {
      // x read in y's logical order [A, C, B, D]: the same memory with axes 1 and 2's strides swapped.
      const Dims y_dims{s[0], s[2], s[1], s[3]};
      const memory::desc src_md(y_dims, f32, Dims{s[1] * s[2] * s[3], s[3], s[2] * s[3], 1});
      const memory::desc dst_md = plain_desc(y_dims);
      const dnnl::reorder::primitive_desc pd(state_->engine, src_md, state_->engine, dst_md);
      CachedPrimitive built;
      built.primitive = dnnl::reorder(pd);
      built.declare(DNNL_ARG_FROM, src_md, state_->engine);
      built.declare(DNNL_ARG_TO, dst_md, state_->engine);
      return built;
    });
  });
  p.bind(DNNL_ARG_FROM, x.raw());
  p.bind(DNNL_ARG_TO, y.raw());
  p.run(state_->stream);
}

// ---- Ops oneDNN has no primitive for: OpenMP loops. ----

// Additive attention has no oneDNN primitive: expressed as binary add + tanh + matmul it would
// materialise a [B, H, T, S, d] tensor, d times the scores' size, per layer.
// These loops keep one (t, s) pair in registers instead; the tanh is recomputed in backward.
void OneDnnBackend::do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                               const Tensor& scores) {
  const int64_t B = q.shape()[0], H = q.shape()[1], T = q.shape()[2], S = k.shape()[2], d = q.shape()[3];
  const float* pq = q.f32();
  const float* pk = k.f32();
  const float* pv = v.f32();
  float* out = scores.f32();
#pragma omp parallel for collapse(2) if (B * H * T * S * d > kParallelThreshold)
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t t = 0; t < T; ++t) {
      const float* qr = pq + (bh * T + t) * d;
      const float* vr = pv + (bh % H) * d;
      for (int64_t s = 0; s < S; ++s) {
        const float* kr = pk + (bh * S + s) * d;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < d; ++j) sum += vr[j] * onednn_detail::vector_tanh(qr[j] + kr[j]);
        out[(bh * T + t) * S + s] = sum;
      }
    }
}

void OneDnnBackend::do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                const Tensor& dscores, const Tensor& dq, const Tensor& dk,
                                                const Tensor& dv, Accumulate acc) {
  const int64_t B = q.shape()[0], H = q.shape()[1], T = q.shape()[2], S = k.shape()[2], d = q.shape()[3];
  const float* pq = q.f32();
  const float* pk = k.f32();
  const float* pv = v.f32();
  const float* pds = dscores.f32();
  float* pdq = dq.f32();
  float* pdk = dk.f32();
  // Each (b, h) pair owns its rows of dq and dk; dv is shared by all b, so each pair writes a
  // partial dv row that is summed afterwards.
  float* dv_partial = state_->gradient_scratch.floats(B * H * d);
  const bool add = acc == Accumulate::yes;
#pragma omp parallel for if (B * H * T * S * d > kParallelThreshold)
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const float* vr = pv + (bh % H) * d;
    float* dvr = dv_partial + bh * d;
    std::fill(dvr, dvr + d, 0.0f);
    if (!add) {
      std::fill(pdq + bh * T * d, pdq + (bh + 1) * T * d, 0.0f);
      std::fill(pdk + bh * S * d, pdk + (bh + 1) * S * d, 0.0f);
    }
    for (int64_t t = 0; t < T; ++t) {
      const float* qr = pq + (bh * T + t) * d;
      float* dqr = pdq + (bh * T + t) * d;
      for (int64_t s = 0; s < S; ++s) {
        const float g = pds[(bh * T + t) * S + s];
        if (g == 0.0f) continue;  // masked positions carry no gradient
        const float* kr = pk + (bh * S + s) * d;
        float* dkr = pdk + (bh * S + s) * d;
#pragma omp simd
        for (int64_t j = 0; j < d; ++j) {
          const float th = onednn_detail::vector_tanh(qr[j] + kr[j]);
          const float pre = g * vr[j] * (1.0f - th * th);
          dqr[j] += pre;
          dkr[j] += pre;
          dvr[j] += g * th;
        }
      }
    }
  }
  float* pdv = dv.f32();
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t j = 0; j < d; ++j) pdv[(bh % H) * d + j] += dv_partial[bh * d + j];
}

void OneDnnBackend::do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) {
  const int64_t rows = step.shape()[0] * step.shape()[1], d = step.shape()[2], capacity = cache.shape()[2];
  const float* src = step.f32();
  float* dst = cache.f32();
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + (r * capacity + position) * d, src + r * d, static_cast<size_t>(d) * sizeof(float));
}

void OneDnnBackend::do_axpy(float alpha, const Tensor& x, const Tensor& y) {
  const float* px = x.f32();
  float* py = y.f32();
  const int64_t n = x.numel();
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) py[i] += alpha * px[i];
}

// oneDNN 2.6's reduction over the leading axis runs its reference kernel, slow enough to take a
// large share of a training step in bias gradients, so this is a loop: each thread sums a band of
// rows into its own partial row, then the partial rows are added up.
void OneDnnBackend::do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  const int threads = rows * cols > kParallelThreshold ? omp_get_max_threads() : 1;
  float* partial = state_->parameter_scratch.floats(static_cast<int64_t>(threads) * cols);
  const float* px = x.f32();
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    float* mine = partial + t * cols;
    std::fill(mine, mine + cols, 0.0f);
    for (int64_t r = rows * t / n; r < rows * (t + 1) / n; ++r) {
      const float* row = px + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) mine[c] += row[c];
    }
  }
  float* py = y.f32();
  for (int64_t c = 0; c < cols; ++c) {
    float sum = acc == Accumulate::yes ? py[c] : 0.0f;
    for (int t = 0; t < threads; ++t) sum += partial[t * cols + c];
    py[c] = sum;
  }
}

double OneDnnBackend::do_sum_squares(const Tensor& x) {
  const float* px = x.f32();
  const int64_t n = x.numel();
  double sum = 0.0;
#pragma omp parallel for simd reduction(+ : sum) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(px[i]) * px[i];
  return sum;
}

namespace {

// y = keep ? x · scale : 0, or dx += that. The mask's 64-bit hashes are drawn 64 at a time into
// a small array (a vectorised loop: AVX-512DQ multiplies 64-bit lanes), whose bytes are then
// read as the 16-bit draws of consecutive elements, lowest bits first, as DropoutMask::keeps
// reads them. Element i draws as element first + i: a block's draws start `first mod 4` into its
// hashes, so one more hash is drawn per block.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
void apply_dropout(const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t first_index, bool add) {
  static_assert(std::endian::native == std::endian::little, "16-bit draws are read from the hash's low bytes first");
  constexpr int64_t kGroups = 64, kElements = 4 * kGroups;
  const DropoutMask mask(seed, p);
  const uint64_t first_group = first_index >> 2;
  const int64_t skip = static_cast<int64_t>(first_index & 3);
  const float keep_scale = 1.0f / (1.0f - p);
  const int64_t blocks = (n + kElements - 1) / kElements;
#pragma omp parallel for if (n > kParallelThreshold)
  for (int64_t block = 0; block < blocks; ++block) {
    uint64_t hashes[kGroups + 1];
#pragma omp simd
    for (int64_t g = 0; g <= kGroups; ++g) hashes[g] = mask.group(first_group + static_cast<uint64_t>(block * kGroups + g));
    uint16_t all_draws[4 * (kGroups + 1)];
    std::memcpy(all_draws, hashes, sizeof all_draws);
    const uint16_t* draws = all_draws + skip;
    const int64_t first = block * kElements, count = std::min(kElements, n - first);
    const float* in = x + first;
    float* out = y + first;
    if (add) {
#pragma omp simd
      for (int64_t i = 0; i < count; ++i) out[i] += mask.keeps_draw(draws[i]) ? in[i] * keep_scale : 0.0f;
    } else {
#pragma omp simd
      for (int64_t i = 0; i < count; ++i) out[i] = mask.keeps_draw(draws[i]) ? in[i] * keep_scale : 0.0f;
    }
  }
}

}  // namespace

void OneDnnBackend::do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) {
  apply_dropout(x.f32(), y.f32(), x.numel(), p, seed, first, false);
}

void OneDnnBackend::do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc, uint64_t first) {
  apply_dropout(dy.f32(), dx.f32(), dy.numel(), p, seed, first, acc == Accumulate::yes);
}

void OneDnnBackend::do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                                         const Tensor* row_scales) {
  const int64_t count = ids.numel(), dim = table.shape()[1];
  const int32_t* pids = ids.data<int32_t>();
  float* py = y.f32();
  if (row_scales != nullptr) {
    const int8_t* codes = table.data<int8_t>();
    const float* steps = row_scales->f32();
#pragma omp parallel for if (count * dim > kParallelThreshold)
    for (int64_t n = 0; n < count; ++n) {
      const int8_t* row = codes + static_cast<int64_t>(pids[n]) * dim;
      const float step = steps[pids[n]];
      float* out = py + n * dim;
#pragma omp simd
      for (int64_t d = 0; d < dim; ++d) out[d] = scale * (static_cast<float>(row[d]) * step);
    }
    return;
  }
  const float* ptable = table.f32();
#pragma omp parallel for if (count * dim > kParallelThreshold)
  for (int64_t n = 0; n < count; ++n) {
    const float* row = ptable + static_cast<int64_t>(pids[n]) * dim;
    float* out = py + n * dim;
#pragma omp simd
    for (int64_t d = 0; d < dim; ++d) out[d] = scale * row[d];
  }
}

void OneDnnBackend::do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) {
  // Serial over tokens: two tokens with the same id write the same row. Parallel over the
  // embedding dimension instead, which no two threads share.
  const int64_t count = ids.numel(), dim = dtable.shape()[1];
  const int32_t* pids = ids.data<int32_t>();
  const float* pdy = dy.f32();
  float* ptable = dtable.f32();
#pragma omp parallel for if (count * dim > kParallelThreshold)
  for (int64_t d0 = 0; d0 < dim; d0 += 16) {
    const int64_t d1 = std::min(dim, d0 + 16);
    for (int64_t n = 0; n < count; ++n) {
      float* row = ptable + static_cast<int64_t>(pids[n]) * dim;
      for (int64_t d = d0; d < d1; ++d) row[d] += scale * pdy[n * dim + d];
    }
  }
}

void OneDnnBackend::do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) {
  const size_t row_bytes = src.shape()[0] ? src.bytes() / static_cast<size_t>(src.shape()[0]) : 0;
  const int32_t* index = rows.data<int32_t>();
  const auto* from = static_cast<const char*>(src.raw());
  auto* to = static_cast<char*>(dst.raw());
  const int64_t count = rows.numel();
#pragma omp parallel for if (static_cast<int64_t>(row_bytes) * count > 4 * kParallelThreshold)
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(to + static_cast<size_t>(i) * row_bytes, from + static_cast<size_t>(index[i]) * row_bytes, row_bytes);
}

void OneDnnBackend::do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) {
  const int64_t heads = src.shape()[1], from_capacity = src.shape()[2], to_capacity = dst.shape()[2], d = src.shape()[3];
  const int32_t* index = rows.data<int32_t>();
  const float* from = src.f32();
  float* to = dst.f32();
  const int64_t blocks = rows.numel() * heads;
  const size_t bytes = static_cast<size_t>(length * d) * sizeof(float);
#pragma omp parallel for if (blocks * length * d > 4 * kParallelThreshold)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t i = block / heads, h = block % heads;
    std::memcpy(to + (i * heads + h) * to_capacity * d, from + (index[i] * heads + h) * from_capacity * d, bytes);
  }
}

void OneDnnBackend::do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                                   const AdamStep& s) {
  // Both bias corrections fold into one step size: lr · √(1−β₂ᵗ) / (1−β₁ᵗ), with ε scaled to match.
  const double correction1 = 1.0 - std::pow(static_cast<double>(s.beta1), static_cast<double>(s.step));
  const double correction2 = 1.0 - std::pow(static_cast<double>(s.beta2), static_cast<double>(s.step));
  const float step_size = static_cast<float>(s.learning_rate * std::sqrt(correction2) / correction1);
  const float epsilon = static_cast<float>(s.epsilon * std::sqrt(correction2));
  const float b1 = s.beta1, b2 = s.beta2, scale = s.grad_scale;
  float* pp = params.f32();
  const float* pg = grads.f32();
  float* pm = m.f32();
  float* pv = v.f32();
  const int64_t n = params.numel();
#pragma omp parallel for simd if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    const float g = scale * pg[i];
    const float mi = b1 * pm[i] + (1.0f - b1) * g;
    const float vi = b2 * pv[i] + (1.0f - b2) * g * g;
    pm[i] = mi;
    pv[i] = vi;
    pp[i] -= step_size * mi / (std::sqrt(vi) + epsilon);
  }
}

LossSums OneDnnBackend::do_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                                 const CrossEntropyOptions& options, const Tensor& log_probs) {
  do_log_softmax_forward(logits, log_probs);
  const int64_t rows = logits.shape()[0], vocab = logits.shape()[1];
  const double eps = options.label_smoothing;
  const int32_t* pt = targets.data<int32_t>();
  const float* plp = log_probs.f32();
  double loss = 0.0, nll = 0.0;
  int64_t tokens = 0;
#pragma omp parallel for reduction(+ : loss, nll, tokens) if (rows * vocab > kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    if (pt[r] == options.ignore_id) continue;
    const float* lp = plp + r * vocab;
    float row_sum = 0.0f;
#pragma omp simd reduction(+ : row_sum)
    for (int64_t v = 0; v < vocab; ++v) row_sum += lp[v];
    const double row_nll = -static_cast<double>(lp[pt[r]]);
    loss += (1.0 - eps) * row_nll - eps / static_cast<double>(vocab) * row_sum;
    nll += row_nll;
    tokens += 1;
  }
  return {loss, nll, tokens};
}

namespace {

// dlogits = grad_scale · (softmax − smoothed one-hot), from the forward's log probabilities; rows
// whose target is ignored get 0 (or keep what they hold when accumulating).
__attribute__((target_clones("avx512f", "avx2", "default")))
void cross_entropy_gradient(const float* log_probs, const int32_t* targets, int64_t rows, int64_t vocab,
                            int32_t ignore_id, float eps, float grad_scale, bool add, float* dlogits) {
  const float uniform_part = grad_scale * eps / static_cast<float>(vocab);
#pragma omp parallel for if (rows * vocab > kParallelThreshold)
  for (int64_t r = 0; r < rows; ++r) {
    const float* lp = log_probs + r * vocab;
    float* d = dlogits + r * vocab;
    if (targets[r] == ignore_id) {
      if (!add) std::memset(d, 0, static_cast<size_t>(vocab) * sizeof(float));
      continue;
    }
    if (add) {
#pragma omp simd
      for (int64_t v = 0; v < vocab; ++v) d[v] += grad_scale * exp_nonpositive(lp[v]) - uniform_part;
    } else {
#pragma omp simd
      for (int64_t v = 0; v < vocab; ++v) d[v] = grad_scale * exp_nonpositive(lp[v]) - uniform_part;
    }
    d[targets[r]] -= grad_scale * (1.0f - eps);
  }
}

}  // namespace

void OneDnnBackend::do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                              const CrossEntropyOptions& options, float grad_scale,
                                              const Tensor& dlogits, Accumulate acc) {
  cross_entropy_gradient(log_probs.f32(), targets.data<int32_t>(), log_probs.shape()[0], log_probs.shape()[1],
                         options.ignore_id, options.label_smoothing, grad_scale, acc == Accumulate::yes,
                         dlogits.f32());
}

}  // namespace heed
