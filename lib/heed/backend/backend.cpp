#include "heed/backend/backend.h"

#include <climits>
#include <type_traits>

#include "heed/core/error.h"

namespace heed {
namespace {

void expect_f32(std::string_view op, std::string_view what, const Tensor& t, Device device) {
  HEED_CHECK(t.defined(), "{}: {} is not allocated", op, what);
  HEED_CHECK(t.dtype() == DType::f32, "{}: {} must be f32, got {}", op, what, t.describe());
  HEED_CHECK(t.device() == device, "{}: {} is {}, the backend runs on {}", op, what, t.describe(),
             device_name(device));
}

void expect_ids(std::string_view op, std::string_view what, const Tensor& t, Device device) {
  HEED_CHECK(t.defined(), "{}: {} is not allocated", op, what);
  HEED_CHECK(t.dtype() == DType::i32 && t.shape().rank() == 1, "{}: {} must be i32 [N], got {}",
             op, what, t.describe());
  HEED_CHECK(t.device() == device, "{}: {} is {}, the backend runs on {}", op, what, t.describe(),
             device_name(device));
}

// Token ids index rows of a table: one out of range would read or write outside it.
constexpr int64_t kNoExtraId = INT64_MIN;  // no id outside [0, limit) is allowed

void expect_ids_below(std::string_view op, const Tensor& ids, int64_t limit, int64_t allowed_extra) {
  if (ids.device() != Device::cpu) return;  // a device backend's kernels check their own reads
  const int32_t* p = ids.data<int32_t>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    HEED_CHECK((p[i] >= 0 && p[i] < limit) || p[i] == allowed_extra,
               "{}: id {} at position {} is outside [0, {})", op, p[i], i, limit);
}

void expect_shape(std::string_view op, std::string_view what, const Tensor& t, const Shape& shape) {
  HEED_CHECK(t.shape() == shape, "{}: {} expected {}, got {}", op, what, shape.str(), t.shape().str());
}

void expect_rows_cols(std::string_view op, const Tensor& x) {
  HEED_CHECK(x.shape().rank() >= 1, "{}: needs at least one axis, got {}", op, x.describe());
}

void expect_broadcastable(std::string_view op, std::string_view what, const Shape& small, const Shape& full) {
  bool ok = small.rank() == full.rank();
  for (int i = 0; ok && i < full.rank(); ++i) ok = small[i] == full[i] || small[i] == 1;
  HEED_CHECK(ok, "{}: {} {} does not broadcast to {} (same rank, each dim equal or 1)", op, what,
             small.str(), full.str());
}

void expect_probability(std::string_view op, float p) {
  HEED_CHECK(p >= 0.0f && p < 1.0f, "{}: dropout probability must be in [0, 1), got {}", op, p);
}

}  // namespace

template <typename Compute, typename Skipped>
auto Backend::hooked(std::string_view op, OpKind kind, Compute&& compute, Skipped&& skipped) {
  using Result = decltype(compute());
  // An op that an implementation builds from others is one op to the hooks.
  if (hooks_ == nullptr || inside_op_) return compute();
  struct After {
    Backend& be;
    OpHooks& hooks;
    std::string_view op;
    ~After() {
      be.inside_op_ = false;
      hooks.after(be, op);
    }
  };
  const bool computes = hooks_->before(*this, op, kind) || kind == OpKind::memory;
  inside_op_ = true;
  const After after{*this, *hooks_, op};
  if (computes) return compute();
  skipped();
  if constexpr (!std::is_void_v<Result>) return Result{};
}

int64_t broadcast_offset(const Shape& full, const Shape& small, int64_t linear) {
  int64_t offset = 0;
  int64_t small_stride = 1;
  for (int axis = full.rank() - 1; axis >= 0; --axis) {
    const int64_t coord = linear % full[axis];
    linear /= full[axis];
    if (small[axis] != 1) offset += coord * small_stride;
    small_stride *= small[axis];
  }
  return offset;
}

Tensor Backend::allocate(const Shape& shape, DType dtype) {
  Tensor t = do_allocate(shape, dtype);
  HEED_CHECK(t.shape() == shape && t.dtype() == dtype && t.device() == device(),
             "{} backend: allocate gave {} for {}[{}]", name(), t.describe(), dtype_name(dtype), shape.str());
  return t;
}

Tensor Backend::allocate_zeroed(const Shape& shape, DType dtype) {
  Tensor t = do_allocate_zeroed(shape, dtype);
  HEED_CHECK(t.shape() == shape && t.dtype() == dtype && t.device() == device(),
             "{} backend: allocate_zeroed gave {} for {}[{}]", name(), t.describe(), dtype_name(dtype), shape.str());
  return t;
}

Tensor Backend::do_allocate_zeroed(const Shape& shape, DType dtype) {
  Tensor t = allocate(shape, dtype);
  fill(t, 0.0);
  return t;
}

void Backend::fill(const Tensor& t, double value) {
  HEED_CHECK(t.defined() && t.device() == device(), "fill: {} is not a tensor on {}", t.describe(), device_name(device()));
  HEED_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::i32 || t.dtype() == DType::u8,
             "fill: {} must be f32, i32 or u8", t.describe());
  hooked("fill", OpKind::memory, [&] { return do_fill(t, value); });
}

void Backend::copy(const Tensor& src, const Tensor& dst) {
  HEED_CHECK(src.defined() && dst.defined() && src.device() == device() && dst.device() == device() &&
                 src.shape() == dst.shape() && src.dtype() == dst.dtype(),
             "copy: {} into {}: both must be on {} with one shape and dtype", src.describe(), dst.describe(),
             device_name(device()));
  if (src.raw() != dst.raw()) hooked("copy", OpKind::memory, [&] { return do_copy(src, dst); });
}

void Backend::upload(const Tensor& host, const Tensor& dst) {
  HEED_CHECK(host.defined() && dst.defined() && host.device() == Device::cpu && dst.device() == device() &&
                 host.shape() == dst.shape() && host.dtype() == dst.dtype(),
             "upload: {} into {}: a CPU tensor into one on {} of the same shape and dtype", host.describe(),
             dst.describe(), device_name(device()));
  hooked("upload", OpKind::memory, [&] { return do_upload(host, dst); });
}

void Backend::download(const Tensor& src, const Tensor& host) {
  HEED_CHECK(src.defined() && host.defined() && src.device() == device() && host.device() == Device::cpu &&
                 host.shape() == src.shape() && host.dtype() == src.dtype(),
             "download: {} into {}: one on {} into a CPU tensor of the same shape and dtype", src.describe(),
             host.describe(), device_name(device()));
  hooked("download", OpKind::memory, [&] { return do_download(src, host); });
}

Tensor Backend::to_device(const Tensor& host, Tensor& staging) {
  if (device() == host.device()) return host;
  if (staging.raw() == nullptr || staging.bytes() < host.bytes() || staging.device() != device())
    staging = allocate(Shape{static_cast<int64_t>(host.bytes())}, DType::u8);
  const Tensor t = Tensor::view(staging.raw(), host.shape(), host.dtype(), device());
  upload(host, t);
  return t;
}

Tensor Backend::to_host(const Tensor& t, Tensor& staging) {
  if (t.device() == Device::cpu) return t;
  if (staging.raw() == nullptr || staging.bytes() < t.bytes() || staging.device() != Device::cpu)
    staging = Tensor::empty(Shape{static_cast<int64_t>(t.bytes())}, DType::u8);
  const Tensor host = Tensor::view(staging.raw(), t.shape(), t.dtype());
  download(t, host);
  return host;
}

void Backend::matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  const std::string_view op = "matmul";
  expect_f32(op, "a", a, device());
  expect_f32(op, "b", b, device());
  expect_f32(op, "c", c, device());
  const Shape& cs = c.shape();
  const int rank = cs.rank();
  HEED_CHECK(rank >= 2, "matmul: c must have rank >= 2, got {}", cs.str());
  HEED_CHECK(a.shape().rank() == rank, "matmul: a {} and c {} differ in rank", a.shape().str(), cs.str());
  HEED_CHECK(b.shape().rank() == rank || b.shape().rank() == 2,
             "matmul: b {} must have c's rank {} or rank 2", b.shape().str(), rank);
  const int64_t m = cs[-2], n = cs[-1];
  const int64_t k = o.transpose_a ? a.shape()[-2] : a.shape()[-1];
  const int64_t am = o.transpose_a ? a.shape()[-1] : a.shape()[-2];
  const int64_t bk = o.transpose_b ? b.shape()[-1] : b.shape()[-2];
  const int64_t bn = o.transpose_b ? b.shape()[-2] : b.shape()[-1];
  HEED_CHECK(am == m && bk == k && bn == n,
             "matmul: shapes do not chain: a {}{} · b {}{} -> c {}", a.shape().str(),
             o.transpose_a ? "ᵀ" : "", b.shape().str(), o.transpose_b ? "ᵀ" : "", cs.str());
  for (int i = 0; i + 2 < rank; ++i) {
    HEED_CHECK(a.shape()[i] == cs[i], "matmul: batch dim {} of a {} differs from c {}", i,
               a.shape().str(), cs.str());
    if (b.shape().rank() == rank)
      HEED_CHECK(b.shape()[i] == cs[i] || b.shape()[i] == 1,
                 "matmul: batch dim {} of b {} is neither c's ({}) nor 1", i, b.shape().str(), cs[i]);
  }
  if (o.bias != nullptr) {
    expect_f32(op, "bias", *o.bias, device());
    expect_shape(op, "bias", *o.bias, Shape{n});
    HEED_CHECK(o.alpha == 1.0f, "matmul: alpha {} cannot be combined with a bias", o.alpha);
  }
  hooked("matmul", OpKind::compute, [&] { return do_matmul(a, b, c, o); });
}

void Backend::set_matmul_precision(Precision precision) {
  HEED_CHECK(precision != Precision::int8, "matmuls of two activations run in f32 or bf16, not int8");
  HEED_CHECK(supports(precision), "the {} backend has no {} matmul kernels on this machine", name(), precision_name(precision));
  matmul_precision_ = precision;
}

std::shared_ptr<const PreparedWeight> Backend::prepare_weight(const Tensor& w, bool transposed, Precision precision) {
  expect_f32("prepare_weight", "w", w, device());
  HEED_CHECK(w.shape().rank() == 2, "prepare_weight: w must be a matrix, got {}", w.describe());
  HEED_CHECK(supports(precision), "the {} backend has no {} matmul kernels on this machine", name(), precision_name(precision));
  return do_prepare_weight(w, transposed, precision);
}

std::shared_ptr<const PreparedWeight> Backend::prepare_int8_weight(const Tensor& codes, const Tensor& steps, bool transposed) {
  HEED_CHECK(codes.dtype() == DType::i8 && codes.device() == Device::cpu && codes.shape().rank() == 2,
             "prepare_int8_weight: codes must be an int8 matrix on the host, got {}", codes.describe());
  const int64_t out = codes.shape()[transposed ? 0 : 1];
  HEED_CHECK(steps.dtype() == DType::f32 && steps.device() == Device::cpu && steps.shape() == Shape{out},
             "prepare_int8_weight: steps must be f32 [{}] on the host, got {}", out, steps.describe());
  HEED_CHECK(supports(Precision::int8), "the {} backend has no int8 matmul kernels on this machine", name());
  return do_prepare_int8_weight(codes, steps, transposed);
}

void Backend::matmul(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) {
  const std::string_view op = "matmul";
  expect_f32(op, "x", x, device());
  expect_f32(op, "y", y, device());
  HEED_CHECK(x.shape().rank() == 2 && y.shape().rank() == 2 && x.shape()[1] == w.in() && y.shape()[0] == x.shape()[0] &&
                 y.shape()[1] == w.out(),
             "matmul: x {} · prepared weight [{}, {}] -> y {} do not chain", x.shape().str(), w.in(), w.out(), y.shape().str());
  if (bias != nullptr) {
    expect_f32(op, "bias", *bias, device());
    expect_shape(op, "bias", *bias, Shape{w.out()});
  }
  if (y.numel() > 0)
    hooked("matmul (prepared weights)", OpKind::compute, [&] { return do_matmul_prepared(x, w, bias, y); },
           [&] { reserve_matmul_scratch(x, w); });
}

std::shared_ptr<const PreparedWeight> Backend::do_prepare_weight(const Tensor& w, bool transposed, Precision) {
  return std::make_shared<PlainWeight>(w, transposed);
}

std::shared_ptr<const PreparedWeight> Backend::do_prepare_int8_weight(const Tensor& codes, const Tensor& steps, bool transposed) {
  Tensor w = Tensor::empty(codes.shape());
  int8_dequantize_channels(codes.data<int8_t>(), steps.f32(), codes.shape()[0], codes.shape()[1], transposed ? 0 : 1, w.f32());
  if (device() != Device::cpu) {
    Tensor placed = allocate(w.shape());
    upload(w, placed);
    w = placed;
  }
  return do_prepare_weight(w, transposed, Precision::int8);
}

void Backend::do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) {
  const auto* plain = dynamic_cast<const PlainWeight*>(&w);
  HEED_CHECK(plain != nullptr, "the {} backend was handed a weight prepared by another kind of backend", name());
  do_matmul(x, plain->matrix(), y, {.transpose_b = plain->transposed(), .bias = bias});
}

void Backend::softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) {
  expect_f32("softmax", "x", x, device());
  expect_f32("softmax", "y", y, device());
  expect_rows_cols("softmax", x);
  expect_shape("softmax", "y", y, x.shape());
  if (!keys.all()) {
    HEED_CHECK(x.shape().rank() == 4, "softmax: visible keys need scores [B, H, T, S], got {}", x.shape().str());
    HEED_CHECK(keys.first_query >= 0, "softmax: first query position {} is negative", keys.first_query);
    HEED_CHECK(keys.window >= 0 && keys.global >= 0, "softmax: window {} and global positions {} must not be negative",
               keys.window, keys.global);
    if (keys.lengths != nullptr) {
      expect_ids("softmax", "lengths", *keys.lengths, device());
      expect_shape("softmax", "lengths", *keys.lengths, Shape{x.shape()[0]});
    }
  }
  hooked("softmax", OpKind::compute, [&] { return do_softmax_forward(x, y, keys); });
}

void Backend::softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  expect_f32("softmax_backward", "y", y, device());
  expect_f32("softmax_backward", "dy", dy, device());
  expect_f32("softmax_backward", "dx", dx, device());
  expect_rows_cols("softmax_backward", y);
  expect_shape("softmax_backward", "dy", dy, y.shape());
  expect_shape("softmax_backward", "dx", dx, y.shape());
  hooked("softmax_backward", OpKind::compute, [&] { return do_softmax_backward(y, dy, dx, acc); });
}

void Backend::log_softmax_forward(const Tensor& x, const Tensor& y) {
  expect_f32("log_softmax", "x", x, device());
  expect_f32("log_softmax", "y", y, device());
  expect_rows_cols("log_softmax", x);
  expect_shape("log_softmax", "y", y, x.shape());
  hooked("log_softmax", OpKind::compute, [&] { return do_log_softmax_forward(x, y); });
}

void Backend::layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                                 const Tensor& y, const Tensor& mean, const Tensor& var) {
  const std::string_view op = "layer_norm";
  for (const auto& [what, t] : {std::pair<const char*, const Tensor*>{"x", &x}, {"gamma", &gamma},
                                {"beta", &beta}, {"y", &y}, {"mean", &mean}, {"var", &var}})
    expect_f32(op, what, *t, device());
  expect_rows_cols(op, x);
  expect_shape(op, "y", y, x.shape());
  expect_shape(op, "gamma", gamma, Shape{x.shape().cols()});
  expect_shape(op, "beta", beta, Shape{x.shape().cols()});
  expect_shape(op, "mean", mean, Shape{x.shape().rows()});
  expect_shape(op, "var", var, Shape{x.shape().rows()});
  HEED_CHECK(eps > 0.0f, "layer_norm: epsilon must be positive, got {}", eps);
  hooked("layer_norm", OpKind::compute, [&] { return do_layer_norm_forward(x, gamma, beta, eps, y, mean, var); });
}

void Backend::layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                  const Tensor& mean, const Tensor& var, float eps, const Tensor& dx,
                                  const Tensor& dgamma, const Tensor& dbeta, Accumulate acc) {
  const std::string_view op = "layer_norm_backward";
  for (const auto& [what, t] :
       {std::pair<const char*, const Tensor*>{"x", &x}, {"dy", &dy}, {"gamma", &gamma}, {"mean", &mean},
        {"var", &var}, {"dx", &dx}, {"dgamma", &dgamma}, {"dbeta", &dbeta}})
    expect_f32(op, what, *t, device());
  expect_rows_cols(op, x);
  expect_shape(op, "dy", dy, x.shape());
  expect_shape(op, "dx", dx, x.shape());
  for (const Tensor* t : {&gamma, &dgamma, &dbeta}) expect_shape(op, "gamma/dgamma/dbeta", *t, Shape{x.shape().cols()});
  expect_shape(op, "mean", mean, Shape{x.shape().rows()});
  expect_shape(op, "var", var, Shape{x.shape().rows()});
  hooked("layer_norm_backward", OpKind::compute, [&] { return do_layer_norm_backward(x, dy, gamma, mean, var, eps, dx, dgamma, dbeta, acc); });
}

void Backend::activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  expect_f32("activation", "x", x, device());
  expect_f32("activation", "y", y, device());
  expect_shape("activation", "y", y, x.shape());
  hooked("activation", OpKind::compute, [&] { return do_activation_forward(kind, x, y); });
}

void Backend::activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                                  Accumulate acc) {
  expect_f32("activation_backward", "x", x, device());
  expect_f32("activation_backward", "dy", dy, device());
  expect_f32("activation_backward", "dx", dx, device());
  expect_shape("activation_backward", "dy", dy, x.shape());
  expect_shape("activation_backward", "dx", dx, x.shape());
  hooked("activation_backward", OpKind::compute, [&] { return do_activation_backward(kind, x, dy, dx, acc); });
}

void Backend::dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) {
  expect_f32("dropout", "x", x, device());
  expect_f32("dropout", "y", y, device());
  expect_shape("dropout", "y", y, x.shape());
  expect_probability("dropout", p);
  hooked("dropout", OpKind::compute, [&] { return do_dropout_forward(x, p, seed, y, first); });
}

void Backend::dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc, uint64_t first) {
  expect_f32("dropout_backward", "dy", dy, device());
  expect_f32("dropout_backward", "dx", dx, device());
  expect_shape("dropout_backward", "dx", dx, dy.shape());
  expect_probability("dropout_backward", p);
  hooked("dropout_backward", OpKind::compute, [&] { return do_dropout_backward(dy, p, seed, dx, acc, first); });
}

void Backend::embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                                const Tensor* row_scales) {
  if (row_scales == nullptr) {
    expect_f32("embedding", "table", table, device());
  } else {
    HEED_CHECK(table.defined() && table.dtype() == DType::i8 && table.device() == device(),
               "embedding: with row scales, the table must be int8 codes on {}, got {}", device_name(device()),
               table.describe());
    expect_f32("embedding", "row_scales", *row_scales, device());
    expect_shape("embedding", "row_scales", *row_scales, Shape{table.shape()[0]});
  }
  expect_ids("embedding", "ids", ids, device());
  expect_f32("embedding", "y", y, device());
  HEED_CHECK(table.shape().rank() == 2, "embedding: table must be [V, D], got {}", table.shape().str());
  expect_shape("embedding", "y", y, Shape{ids.shape()[0], table.shape()[1]});
  expect_ids_below("embedding", ids, table.shape()[0], kNoExtraId);
  hooked("embedding", OpKind::compute, [&] { return do_embedding_forward(table, ids, scale, y, row_scales); });
}

void Backend::embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) {
  expect_ids("embedding_backward", "ids", ids, device());
  expect_f32("embedding_backward", "dy", dy, device());
  expect_f32("embedding_backward", "dtable", dtable, device());
  HEED_CHECK(dtable.shape().rank() == 2, "embedding_backward: dtable must be [V, D], got {}",
             dtable.shape().str());
  expect_shape("embedding_backward", "dy", dy, Shape{ids.shape()[0], dtable.shape()[1]});
  expect_ids_below("embedding_backward", ids, dtable.shape()[0], kNoExtraId);
  hooked("embedding_backward", OpKind::compute, [&] { return do_embedding_backward(ids, dy, scale, dtable); });
}

void Backend::add(const Tensor& a, const Tensor& b, const Tensor& c) {
  expect_f32("add", "a", a, device());
  expect_f32("add", "b", b, device());
  expect_f32("add", "c", c, device());
  expect_shape("add", "c", c, a.shape());
  expect_broadcastable("add", "b", b.shape(), a.shape());
  hooked("add", OpKind::compute, [&] { return do_add(a, b, c); });
}

void Backend::axpy(float alpha, const Tensor& x, const Tensor& y) {
  expect_f32("axpy", "x", x, device());
  expect_f32("axpy", "y", y, device());
  expect_shape("axpy", "y", y, x.shape());
  hooked("axpy", OpKind::compute, [&] { return do_axpy(alpha, x, y); });
}

void Backend::sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) {
  expect_f32("sum_rows", "x", x, device());
  expect_f32("sum_rows", "y", y, device());
  expect_rows_cols("sum_rows", x);
  expect_shape("sum_rows", "y", y, Shape{x.shape().cols()});
  hooked("sum_rows", OpKind::compute, [&] { return do_sum_rows(x, y, acc); });
}

double Backend::sum_squares(const Tensor& x) {
  expect_f32("sum_squares", "x", x, device());
  return hooked("sum_squares", OpKind::compute, [&] { return do_sum_squares(x); });
}

void Backend::swap_axes_12(const Tensor& x, const Tensor& y) {
  expect_f32("swap_axes_12", "x", x, device());
  expect_f32("swap_axes_12", "y", y, device());
  const Shape& s = x.shape();
  HEED_CHECK(s.rank() == 4, "swap_axes_12: x must be [A, B, C, D], got {}", s.str());
  expect_shape("swap_axes_12", "y", y, Shape{s[0], s[2], s[1], s[3]});
  hooked("swap_axes_12", OpKind::compute, [&] { return do_swap_axes_12(x, y); });
}

namespace {

void check_additive_operands(std::string_view op, const Tensor& q, const Tensor& k, const Tensor& v,
                             const Tensor& scores, Device device) {
  for (const auto& [what, t] : {std::pair<const char*, const Tensor*>{"q", &q}, {"k", &k}, {"v", &v}, {"scores", &scores}})
    expect_f32(op, what, *t, device);
  HEED_CHECK(q.shape().rank() == 4 && k.shape().rank() == 4, "{}: q and k must be [B, H, T, d], got {} and {}",
             op, q.shape().str(), k.shape().str());
  const Shape& qs = q.shape();
  const Shape& ks = k.shape();
  HEED_CHECK(ks[0] == qs[0] && ks[1] == qs[1] && ks[3] == qs[3], "{}: k {} does not match q {}", op, ks.str(), qs.str());
  expect_shape(op, "v", v, Shape{qs[1], qs[3]});
  expect_shape(op, "scores", scores, Shape{qs[0], qs[1], qs[2], ks[2]});
}

}  // namespace

void Backend::additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& scores) {
  check_additive_operands("additive_scores", q, k, v, scores, device());
  hooked("additive_scores", OpKind::compute, [&] { return do_additive_scores_forward(q, k, v, scores); });
}

void Backend::additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores,
                                       const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc) {
  check_additive_operands("additive_scores_backward", q, k, v, dscores, device());
  expect_shape("additive_scores_backward", "dq", dq, q.shape());
  expect_shape("additive_scores_backward", "dk", dk, k.shape());
  expect_shape("additive_scores_backward", "dv", dv, v.shape());
  hooked("additive_scores_backward", OpKind::compute, [&] { return do_additive_scores_backward(q, k, v, dscores, dq, dk, dv, acc); });
}

void Backend::attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                               const VisibleKeys& visible, const Tensor& probs, const Tensor& out) {
  const std::string_view op = "attend_one_query";
  for (const auto& [what, t] : {std::pair{"q", &q}, {"keys", &keys}, {"values", &values}, {"probs", &probs}, {"out", &out}})
    expect_f32(op, what, *t, device());
  HEED_CHECK(q.shape().rank() == 4 && q.shape()[2] == 1 && keys.shape().rank() == 4,
             "attend_one_query: q must be [B, H, 1, d] and keys [B, H, S, d], got {} and {}", q.shape().str(), keys.shape().str());
  const Shape& s = q.shape();
  const int64_t length = keys.shape()[2], key_rows = keys.shape()[0];
  HEED_CHECK(key_rows >= 1 && s[0] % key_rows == 0, "attend_one_query: {} query rows do not share {} key rows evenly", s[0], key_rows);
  expect_shape(op, "keys", keys, Shape{key_rows, s[1], length, s[3]});
  expect_shape(op, "values", values, keys.shape());
  expect_shape(op, "probs", probs, Shape{s[0], s[1], 1, length});
  expect_shape(op, "out", out, s);
  if (visible.lengths != nullptr) {
    HEED_CHECK(visible.lengths->dtype() == DType::i32 && visible.lengths->shape() == Shape{key_rows} &&
                   visible.lengths->device() == device(),
               "attend_one_query: lengths must be i32 [{}] on {}, got {}", key_rows, device_name(device()), visible.lengths->describe());
  }
  hooked("attend_one_query", OpKind::compute, [&] { return do_attend_one_query(q, keys, values, alpha, visible, probs, out); });
}

namespace {

// The shapes attention_forward and attention_backward agree on: q [B, H, T, d], k and v [B, H, S, d].
void expect_attention_operands(std::string_view op, const Tensor& q, const Tensor& k, const Tensor& v,
                               const TiledAttention& a, Device device) {
  for (const auto& [what, t] : {std::pair{"q", &q}, {"k", &k}, {"v", &v}}) expect_f32(op, what, *t, device);
  HEED_CHECK(q.shape().rank() == 4 && k.shape().rank() == 4, "{}: q must be [B, H, T, d] and k [B, H, S, d], got {} and {}",
             op, q.shape().str(), k.shape().str());
  const Shape& s = q.shape();
  expect_shape(op, "k", k, Shape{s[0], s[1], k.shape()[2], s[3]});
  expect_shape(op, "v", v, k.shape());
  expect_probability(op, a.dropout);
  if (a.visible.lengths != nullptr) {
    HEED_CHECK(a.visible.lengths->dtype() == DType::i32 && a.visible.lengths->shape() == Shape{s[0]} &&
                   a.visible.lengths->device() == device,
               "{}: lengths must be i32 [{}] on {}, got {}", op, s[0], device_name(device), a.visible.lengths->describe());
  }
}

}  // namespace

void Backend::attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                                const Tensor& out, const Tensor& logsumexp) {
  const std::string_view op = "attention_forward";
  expect_attention_operands(op, q, k, v, a, device());
  expect_f32(op, "out", out, device());
  expect_f32(op, "logsumexp", logsumexp, device());
  expect_shape(op, "out", out, q.shape());
  expect_shape(op, "logsumexp", logsumexp, Shape{q.shape()[0], q.shape()[1], q.shape()[2]});
  hooked("attention (tiled)", OpKind::compute, [&] { return do_attention_forward(q, k, v, a, out, logsumexp); },
         [&] { reserve_attention_scratch(q, k); });
}

void Backend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                 const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a, const Tensor& dq,
                                 const Tensor& dk, const Tensor& dv) {
  const std::string_view op = "attention_backward";
  expect_attention_operands(op, q, k, v, a, device());
  for (const auto& [what, t] : {std::pair{"out", &out}, {"logsumexp", &logsumexp}, {"d_out", &d_out}, {"dq", &dq},
                                {"dk", &dk}, {"dv", &dv}})
    expect_f32(op, what, *t, device());
  expect_shape(op, "out", out, q.shape());
  expect_shape(op, "d_out", d_out, q.shape());
  expect_shape(op, "logsumexp", logsumexp, Shape{q.shape()[0], q.shape()[1], q.shape()[2]});
  expect_shape(op, "dq", dq, q.shape());
  expect_shape(op, "dk", dk, k.shape());
  expect_shape(op, "dv", dv, v.shape());
  hooked("attention_backward (tiled)", OpKind::compute, [&] { return do_attention_backward(q, k, v, out, logsumexp, d_out, a, dq, dk, dv); });
}

void Backend::write_time_step(const Tensor& step, int64_t position, const Tensor& cache) {
  expect_f32("write_time_step", "step", step, device());
  expect_f32("write_time_step", "cache", cache, device());
  HEED_CHECK(step.shape().rank() == 3 && cache.shape().rank() == 4,
             "write_time_step: step must be [B, H, d] and cache [B, H, capacity, d], got {} and {}",
             step.shape().str(), cache.shape().str());
  const Shape& s = step.shape();
  expect_shape("write_time_step", "cache", cache, Shape{s[0], s[1], cache.shape()[2], s[2]});
  HEED_CHECK(position >= 0 && position < cache.shape()[2],
             "write_time_step: position {} outside the cache's capacity {}", position, cache.shape()[2]);
  hooked("write_time_step", OpKind::compute, [&] { return do_write_time_step(step, position, cache); });
}

void Backend::sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) {
  HEED_CHECK(ids.defined() && ids.dtype() == DType::i32 && ids.shape().rank() == 2 && ids.device() == device(),
             "sequence_lengths: ids must be i32 [B, S] on {}, got {}", device_name(device()), ids.describe());
  expect_ids("sequence_lengths", "lengths", lengths, device());
  expect_shape("sequence_lengths", "lengths", lengths, Shape{ids.shape()[0]});
  hooked("sequence_lengths", OpKind::compute, [&] { return do_sequence_lengths(ids, pad_id, lengths); });
}

void Backend::gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) {
  HEED_CHECK(src.dtype() == dst.dtype() && src.device() == device() && dst.device() == device(),
             "gather_rows: src {} and dst {} must share a dtype on the backend's device", src.describe(), dst.describe());
  expect_ids("gather_rows", "rows", rows, device());
  HEED_CHECK(src.shape().rank() >= 1 && dst.shape() == src.shape().with(0, rows.shape()[0]),
             "gather_rows: dst expected {}, got {}", src.shape().rank() ? src.shape().with(0, rows.shape()[0]).str() : "?",
             dst.shape().str());
  HEED_CHECK(src.raw() != dst.raw() || src.numel() == 0, "gather_rows: src and dst must not overlap");
  expect_ids_below("gather_rows", rows, src.shape()[0], kNoExtraId);
  hooked("gather_rows", OpKind::compute, [&] { return do_gather_rows(src, rows, dst); });
}

void Backend::gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) {
  expect_f32("gather_cache_rows", "src", src, device());
  expect_f32("gather_cache_rows", "dst", dst, device());
  expect_ids("gather_cache_rows", "rows", rows, device());
  HEED_CHECK(src.shape().rank() == 4, "gather_cache_rows: src must be [B, H, capacity, d], got {}", src.shape().str());
  HEED_CHECK(dst.shape().rank() == 4 && dst.shape().with(2, src.shape()[2]) == src.shape().with(0, rows.shape()[0]),
             "gather_cache_rows: dst expected [{}, {}, capacity, {}], got {}", rows.shape()[0], src.shape()[1],
             src.shape()[3], dst.shape().str());
  HEED_CHECK(length >= 0 && length <= src.shape()[2] && length <= dst.shape()[2],
             "gather_cache_rows: length {} outside the capacities {} and {}", length, src.shape()[2], dst.shape()[2]);
  HEED_CHECK(src.raw() != dst.raw(), "gather_cache_rows: src and dst must not overlap");
  expect_ids_below("gather_cache_rows", rows, src.shape()[0], kNoExtraId);
  hooked("gather_cache_rows", OpKind::compute, [&] { return do_gather_cache_rows(src, rows, length, dst); });
}

void Backend::adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                          const AdamStep& step) {
  for (const auto& [what, t] : {std::pair<const char*, const Tensor*>{"params", &params}, {"grads", &grads}, {"m", &m}, {"v", &v}}) {
    expect_f32("adam_update", what, *t, device());
    expect_shape("adam_update", what, *t, params.shape());
  }
  HEED_CHECK(step.step >= 1, "adam_update: step must start at 1, got {}", step.step);
  hooked("adam_update", OpKind::compute, [&] { return do_adam_update(params, grads, m, v, step); });
}

LossSums Backend::cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                        const CrossEntropyOptions& options, const Tensor& log_probs) {
  const std::string_view op = "cross_entropy";
  expect_f32(op, "logits", logits, device());
  expect_ids(op, "targets", targets, device());
  expect_f32(op, "log_probs", log_probs, device());
  HEED_CHECK(logits.shape().rank() == 2, "cross_entropy: logits must be [N, V], got {}", logits.shape().str());
  expect_shape(op, "targets", targets, Shape{logits.shape()[0]});
  expect_shape(op, "log_probs", log_probs, logits.shape());
  expect_ids_below(op, targets, logits.shape()[1], options.ignore_id);
  HEED_CHECK(options.label_smoothing >= 0.0f && options.label_smoothing < 1.0f,
             "cross_entropy: label smoothing must be in [0, 1), got {}", options.label_smoothing);
  return hooked("cross_entropy", OpKind::compute, [&] { return do_cross_entropy_forward(logits, targets, options, log_probs); });
}

void Backend::cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                     const CrossEntropyOptions& options, float grad_scale,
                                     const Tensor& dlogits, Accumulate acc) {
  const std::string_view op = "cross_entropy_backward";
  expect_f32(op, "log_probs", log_probs, device());
  expect_ids(op, "targets", targets, device());
  expect_f32(op, "dlogits", dlogits, device());
  HEED_CHECK(log_probs.shape().rank() == 2, "cross_entropy_backward: log_probs must be [N, V], got {}",
             log_probs.shape().str());
  expect_shape(op, "targets", targets, Shape{log_probs.shape()[0]});
  expect_shape(op, "dlogits", dlogits, log_probs.shape());
  expect_ids_below(op, targets, log_probs.shape()[1], options.ignore_id);
  hooked("cross_entropy_backward", OpKind::compute, [&] { return do_cross_entropy_backward(log_probs, targets, options, grad_scale, dlogits, acc); });
}

}  // namespace heed
