#include "heed/backend/reference/reference_backend.h"

#include <cmath>
#include <vector>

#include "heed/core/half.h"
#include "heed/core/rng.h"

namespace heed {
namespace {

// Writes or adds one gradient element.
inline void put(float* out, int64_t i, double value, Accumulate acc) {
  out[i] = acc == Accumulate::yes ? static_cast<float>(out[i] + value) : static_cast<float>(value);
}

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_derivative(double x) {
  const double cdf = 0.5 * (1.0 + std::erf(x / std::sqrt(2.0)));
  const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
  return cdf + x * pdf;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double activation(Activation kind, double x) {
  switch (kind) {
    case Activation::relu: return x > 0 ? x : 0.0;
    case Activation::gelu: return gelu(x);
    case Activation::swish: return x * sigmoid(x);
  }
  return 0.0;
}

// d activation / dx
double activation_slope(Activation kind, double x) {
  switch (kind) {
    case Activation::relu: return x > 0 ? 1.0 : 0.0;
    case Activation::gelu: return gelu_derivative(x);
    case Activation::swish: return sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x)));
  }
  return 0.0;
}

bool dropout_keeps(uint64_t seed, uint64_t i, float p) { return DropoutMask(seed, p).keeps(i); }

}  // namespace

// Host memory: this backend runs on the CPU.

void ReferenceBackend::do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  const Shape& cs = c.shape();
  const int64_t m = cs[-2], n = cs[-1];
  const int64_t k = o.transpose_a ? a.shape()[-2] : a.shape()[-1];
  const int64_t batch = cs.rows() / m;
  const Shape b_batch_shape = [&] {  // b's batch dims, padded to c's rank
    Shape s;
    const int missing = cs.rank() - b.shape().rank();
    for (int i = 0; i + 2 < cs.rank(); ++i) s.push_back(i < missing ? 1 : b.shape()[i - missing]);
    return s;
  }();
  Shape c_batch_shape;
  for (int i = 0; i + 2 < cs.rank(); ++i) c_batch_shape.push_back(cs[i]);

  const float* pa = a.f32();
  const float* pb = b.f32();
  float* pc = c.f32();
  const bool bf16 = matmul_precision() == Precision::bf16;
  const auto operand = [bf16](float v) { return static_cast<double>(bf16 ? bf16_to_float(float_to_bf16(v)) : v); };
  for (int64_t bi = 0; bi < batch; ++bi) {
    const float* ab = pa + bi * m * k;
    const float* bb = pb + (c_batch_shape.rank() ? broadcast_offset(c_batch_shape, b_batch_shape, bi) : 0) * k * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (int64_t l = 0; l < k; ++l) {
          const double av = operand(o.transpose_a ? ab[l * m + i] : ab[i * k + l]);
          const double bv = operand(o.transpose_b ? bb[j * k + l] : bb[l * n + j]);
          sum += av * bv;
        }
        double value = o.alpha * sum;
        if (o.bias) value += o.bias->f32()[j];
        const int64_t ci = (bi * m + i) * n + j;
        put(pc, ci, value, o.accumulate);
      }
    }
  }
}

void ReferenceBackend::do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  std::vector<double> z(cols);
  for (int64_t r = 0; r < rows; ++r) {
    // The keys this row sees: all, or those VisibleKeys names (a row that sees none is uniform
    // over all).
    VisibleKeys::Ranges seen{0, 0, cols};
    if (!keys.all()) {
      const int64_t heads = x.shape()[1], queries = x.shape()[2];
      int64_t end = cols;
      if (keys.lengths) end = std::min<int64_t>(end, keys.lengths->data<int32_t>()[r / (heads * queries)]);
      seen = keys.ranges(keys.first_query + r % queries, end);
    }
    if (seen.count() <= 0) {  // every key hidden: uniform, as kMaskedScore scores make it
      for (int64_t c = 0; c < cols; ++c) y.f32()[r * cols + c] = static_cast<float>(1.0 / static_cast<double>(cols));
      continue;
    }
    double max = -INFINITY;
    for (int64_t c = 0; c < cols; ++c) {
      z[c] = x.f32()[r * cols + c];
      if (seen.contains(c)) max = std::max(max, z[c]);
    }
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      if (seen.contains(c)) sum += std::exp(z[c] - max);
    for (int64_t c = 0; c < cols; ++c)
      y.f32()[r * cols + c] = seen.contains(c) ? static_cast<float>(std::exp(z[c] - max) / sum) : 0.0f;
  }
}

void ReferenceBackend::do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                                           const VisibleKeys& visible, const Tensor& probs, const Tensor& out) {
  const int64_t batch = q.shape()[0], heads = q.shape()[1], dim = q.shape()[3], length = keys.shape()[2];
  const int64_t share = batch / keys.shape()[0];  // query rows per key row
  std::vector<double> p(length);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      int64_t end = length;
      if (visible.lengths) end = std::min<int64_t>(end, visible.lengths->data<int32_t>()[b / share]);
      const VisibleKeys::Ranges seen = visible.ranges(visible.first_query, end);
      const int64_t row = b * heads + h, key_row = (b / share) * heads + h;
      const float* qr = q.f32() + row * dim;
      const float* kr = keys.f32() + key_row * length * dim;
      const float* vr = values.f32() + key_row * length * dim;
      if (seen.count() <= 0) {  // no key visible: uniform over all, as softmax_forward does
        std::fill(p.begin(), p.end(), 1.0 / static_cast<double>(length));
      } else {
        double max = -INFINITY;
        for (int64_t s = 0; s < length; ++s) {
          if (!seen.contains(s)) continue;
          double dot = 0.0;
          for (int64_t j = 0; j < dim; ++j) dot += static_cast<double>(qr[j]) * kr[s * dim + j];
          p[s] = alpha * dot;
          max = std::max(max, p[s]);
        }
        double sum = 0.0;
        for (int64_t s = 0; s < length; ++s)
          if (seen.contains(s)) sum += (p[s] = std::exp(p[s] - max));
        for (int64_t s = 0; s < length; ++s) p[s] = seen.contains(s) ? p[s] / sum : 0.0;
      }
      for (int64_t s = 0; s < length; ++s) probs.f32()[row * length + s] = static_cast<float>(p[s]);
      for (int64_t j = 0; j < dim; ++j) {
        double sum = 0.0;
        for (int64_t s = 0; s < length; ++s) sum += p[s] * vr[s * dim + j];
        out.f32()[row * dim + j] = static_cast<float>(sum);
      }
    }
}

void ReferenceBackend::do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) {
  const int64_t length = ids.shape()[1];
  for (int64_t b = 0; b < ids.shape()[0]; ++b) {
    int64_t n = 0;
    while (n < length && ids.data<int32_t>()[b * length + n] != pad_id) ++n;
    lengths.data<int32_t>()[b] = static_cast<int32_t>(n);
  }
}

void ReferenceBackend::do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  const int64_t rows = y.shape().rows(), cols = y.shape().cols();
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y.f32() + r * cols;
    const float* dyr = dy.f32() + r * cols;
    double dot = 0.0;
    for (int64_t c = 0; c < cols; ++c) dot += static_cast<double>(dyr[c]) * yr[c];
    for (int64_t c = 0; c < cols; ++c) put(dx.f32(), r * cols + c, yr[c] * (dyr[c] - dot), acc);
  }
}

void ReferenceBackend::do_log_softmax_forward(const Tensor& x, const Tensor& y) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.f32() + r * cols;
    double max = -INFINITY;
    for (int64_t c = 0; c < cols; ++c) max = std::max(max, static_cast<double>(xr[c]));
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(xr[c] - max);
    const double log_sum = max + std::log(sum);
    for (int64_t c = 0; c < cols; ++c) y.f32()[r * cols + c] = static_cast<float>(xr[c] - log_sum);
  }
}

void ReferenceBackend::do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                                             const Tensor& y, const Tensor& mean, const Tensor& var) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.f32() + r * cols;
    double mu = 0.0;
    for (int64_t c = 0; c < cols; ++c) mu += xr[c];
    mu /= static_cast<double>(cols);
    double v = 0.0;
    for (int64_t c = 0; c < cols; ++c) v += (xr[c] - mu) * (xr[c] - mu);
    v /= static_cast<double>(cols);
    const double rstd = 1.0 / std::sqrt(v + eps);
    for (int64_t c = 0; c < cols; ++c)
      y.f32()[r * cols + c] = static_cast<float>((xr[c] - mu) * rstd * gamma.f32()[c] + beta.f32()[c]);
    mean.f32()[r] = static_cast<float>(mu);
    var.f32()[r] = static_cast<float>(v);
  }
}

void ReferenceBackend::do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                              const Tensor& mean, const Tensor& var, float eps, const Tensor& dx,
                                              const Tensor& dgamma, const Tensor& dbeta, Accumulate acc) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  std::vector<double> dgamma_sum(cols, 0.0), dbeta_sum(cols, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x.f32() + r * cols;
    const float* dyr = dy.f32() + r * cols;
    const double mu = mean.f32()[r];
    const double rstd = 1.0 / std::sqrt(static_cast<double>(var.f32()[r]) + eps);
    // With x̂ = (x − μ)·rstd and g = dy·γ: dx = rstd · (g − mean(g) − x̂ · mean(g·x̂)).
    double g_mean = 0.0, gx_mean = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      const double xhat = (xr[c] - mu) * rstd;
      const double g = static_cast<double>(dyr[c]) * gamma.f32()[c];
      g_mean += g;
      gx_mean += g * xhat;
      dgamma_sum[c] += dyr[c] * xhat;
      dbeta_sum[c] += dyr[c];
    }
    g_mean /= static_cast<double>(cols);
    gx_mean /= static_cast<double>(cols);
    for (int64_t c = 0; c < cols; ++c) {
      const double xhat = (xr[c] - mu) * rstd;
      const double g = static_cast<double>(dyr[c]) * gamma.f32()[c];
      put(dx.f32(), r * cols + c, rstd * (g - g_mean - xhat * gx_mean), acc);
    }
  }
  for (int64_t c = 0; c < cols; ++c) {
    put(dgamma.f32(), c, dgamma_sum[c], Accumulate::yes);
    put(dbeta.f32(), c, dbeta_sum[c], Accumulate::yes);
  }
}

void ReferenceBackend::do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.f32()[i];
    y.f32()[i] = static_cast<float>(activation(kind, v));
  }
}

void ReferenceBackend::do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                                              Accumulate acc) {
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.f32()[i];
    put(dx.f32(), i, dy.f32()[i] * activation_slope(kind, v), acc);
  }
}

void ReferenceBackend::do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) {
  const double keep_scale = 1.0 / (1.0 - p);
  for (int64_t i = 0; i < x.numel(); ++i)
    y.f32()[i] = dropout_keeps(seed, first + static_cast<uint64_t>(i), p) ? static_cast<float>(x.f32()[i] * keep_scale) : 0.0f;
}

void ReferenceBackend::do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc, uint64_t first) {
  const double keep_scale = 1.0 / (1.0 - p);
  for (int64_t i = 0; i < dy.numel(); ++i)
    put(dx.f32(), i, dropout_keeps(seed, first + static_cast<uint64_t>(i), p) ? dy.f32()[i] * keep_scale : 0.0, acc);
}

void ReferenceBackend::do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                                            const Tensor* row_scales) {
  const int64_t dim = table.shape()[1];
  for (int64_t n = 0; n < ids.numel(); ++n) {
    const int32_t id = ids.data<int32_t>()[n];
    for (int64_t d = 0; d < dim; ++d) {
      // The table's value: an int8 code times its row's scale, in f32 as the dequantised table holds it.
      const float value = row_scales ? static_cast<float>(table.data<int8_t>()[id * dim + d]) * row_scales->f32()[id]
                                     : table.f32()[id * dim + d];
      y.f32()[n * dim + d] = static_cast<float>(static_cast<double>(scale) * value);
    }
  }
}

void ReferenceBackend::do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) {
  const int64_t dim = dtable.shape()[1];
  for (int64_t n = 0; n < ids.numel(); ++n) {
    float* row = dtable.f32() + ids.data<int32_t>()[n] * dim;
    for (int64_t d = 0; d < dim; ++d) row[d] = static_cast<float>(row[d] + static_cast<double>(scale) * dy.f32()[n * dim + d]);
  }
}

void ReferenceBackend::do_add(const Tensor& a, const Tensor& b, const Tensor& c) {
  for (int64_t i = 0; i < a.numel(); ++i)
    c.f32()[i] = static_cast<float>(static_cast<double>(a.f32()[i]) + b.f32()[broadcast_offset(a.shape(), b.shape(), i)]);
}

void ReferenceBackend::do_axpy(float alpha, const Tensor& x, const Tensor& y) {
  for (int64_t i = 0; i < x.numel(); ++i) put(y.f32(), i, static_cast<double>(alpha) * x.f32()[i], Accumulate::yes);
}

void ReferenceBackend::do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) {
  const int64_t rows = x.shape().rows(), cols = x.shape().cols();
  for (int64_t c = 0; c < cols; ++c) {
    double sum = 0.0;
    for (int64_t r = 0; r < rows; ++r) sum += x.f32()[r * cols + c];
    put(y.f32(), c, sum, acc);
  }
}

double ReferenceBackend::do_sum_squares(const Tensor& x) {
  double sum = 0.0;
  for (int64_t i = 0; i < x.numel(); ++i) sum += static_cast<double>(x.f32()[i]) * x.f32()[i];
  return sum;
}

LossSums ReferenceBackend::do_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                                    const CrossEntropyOptions& options, const Tensor& log_probs) {
  do_log_softmax_forward(logits, log_probs);
  const int64_t rows = logits.shape()[0], vocab = logits.shape()[1];
  const double eps = options.label_smoothing;
  LossSums sums;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t t = targets.data<int32_t>()[r];
    if (t == options.ignore_id) continue;
    const float* lp = log_probs.f32() + r * vocab;
    double sum_lp = 0.0;
    for (int64_t v = 0; v < vocab; ++v) sum_lp += lp[v];
    const double nll = -lp[t];
    sums.loss += (1.0 - eps) * nll - eps / static_cast<double>(vocab) * sum_lp;
    sums.nll += nll;
    sums.tokens += 1;
  }
  return sums;
}

void ReferenceBackend::do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                                 const CrossEntropyOptions& options, float grad_scale,
                                                 const Tensor& dlogits, Accumulate acc) {
  const int64_t rows = log_probs.shape()[0], vocab = log_probs.shape()[1];
  const double eps = options.label_smoothing;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t t = targets.data<int32_t>()[r];
    for (int64_t v = 0; v < vocab; ++v) {
      double grad = 0.0;
      if (t != options.ignore_id) {
        const double target_prob = (v == t ? 1.0 - eps : 0.0) + eps / static_cast<double>(vocab);
        grad = grad_scale * (std::exp(static_cast<double>(log_probs.f32()[r * vocab + v])) - target_prob);
      }
      put(dlogits.f32(), r * vocab + v, grad, acc);
    }
  }
}

}  // namespace heed

namespace heed {

void ReferenceBackend::do_swap_axes_12(const Tensor& x, const Tensor& y) {
  const Shape& s = x.shape();
  for (int64_t a = 0; a < s[0]; ++a)
    for (int64_t b = 0; b < s[1]; ++b)
      for (int64_t c = 0; c < s[2]; ++c)
        for (int64_t d = 0; d < s[3]; ++d)
          y.f32()[((a * s[2] + c) * s[1] + b) * s[3] + d] = x.f32()[((a * s[1] + b) * s[2] + c) * s[3] + d];
}

void ReferenceBackend::do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                  const Tensor& scores) {
  const int64_t B = q.shape()[0], H = q.shape()[1], T = q.shape()[2], S = k.shape()[2], d = q.shape()[3];
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t s = 0; s < S; ++s) {
          double sum = 0.0;
          for (int64_t j = 0; j < d; ++j)
            sum += static_cast<double>(v.f32()[h * d + j]) *
                   std::tanh(static_cast<double>(q.f32()[((b * H + h) * T + t) * d + j]) + k.f32()[((b * H + h) * S + s) * d + j]);
          const int64_t i = ((b * H + h) * T + t) * S + s;
          scores.f32()[i] = static_cast<float>(sum);
        }
}

void ReferenceBackend::do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                   const Tensor& dscores, const Tensor& dq, const Tensor& dk,
                                                   const Tensor& dv, Accumulate acc) {
  const int64_t B = q.shape()[0], H = q.shape()[1], T = q.shape()[2], S = k.shape()[2], d = q.shape()[3];
  std::vector<double> gq(q.numel(), 0.0), gk(k.numel(), 0.0), gv(v.numel(), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t s = 0; s < S; ++s) {
          const double g = dscores.f32()[((b * H + h) * T + t) * S + s];
          for (int64_t j = 0; j < d; ++j) {
            const int64_t qi = ((b * H + h) * T + t) * d + j, ki = ((b * H + h) * S + s) * d + j;
            const double th = std::tanh(static_cast<double>(q.f32()[qi]) + k.f32()[ki]);
            const double pre = g * v.f32()[h * d + j] * (1.0 - th * th);
            gq[qi] += pre;
            gk[ki] += pre;
            gv[h * d + j] += g * th;
          }
        }
  for (int64_t i = 0; i < q.numel(); ++i) put(dq.f32(), i, gq[i], acc);
  for (int64_t i = 0; i < k.numel(); ++i) put(dk.f32(), i, gk[i], acc);
  for (int64_t i = 0; i < v.numel(); ++i) put(dv.f32(), i, gv[i], Accumulate::yes);
}

void ReferenceBackend::do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) {
  const int64_t rows = step.shape()[0] * step.shape()[1], d = step.shape()[2], capacity = cache.shape()[2];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < d; ++j) cache.f32()[(r * capacity + position) * d + j] = step.f32()[r * d + j];
}

}  // namespace heed

namespace heed {

void ReferenceBackend::do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                                      const AdamStep& s) {
  const double correction1 = 1.0 - std::pow(static_cast<double>(s.beta1), static_cast<double>(s.step));
  const double correction2 = 1.0 - std::pow(static_cast<double>(s.beta2), static_cast<double>(s.step));
  for (int64_t i = 0; i < params.numel(); ++i) {
    const double g = static_cast<double>(s.grad_scale) * grads.f32()[i];
    const double mi = s.beta1 * static_cast<double>(m.f32()[i]) + (1.0 - s.beta1) * g;
    const double vi = s.beta2 * static_cast<double>(v.f32()[i]) + (1.0 - s.beta2) * g * g;
    m.f32()[i] = static_cast<float>(mi);
    v.f32()[i] = static_cast<float>(vi);
    params.f32()[i] = static_cast<float>(params.f32()[i] - s.learning_rate * (mi / correction1) /
                                                               (std::sqrt(vi / correction2) + s.epsilon));
  }
}

}  // namespace heed

namespace heed {

void ReferenceBackend::do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) {
  const size_t row_bytes = src.shape()[0] ? src.bytes() / static_cast<size_t>(src.shape()[0]) : 0;
  for (int64_t i = 0; i < rows.numel(); ++i)
    for (size_t b = 0; b < row_bytes; ++b)
      static_cast<char*>(dst.raw())[static_cast<size_t>(i) * row_bytes + b] =
          static_cast<const char*>(src.raw())[static_cast<size_t>(rows.data<int32_t>()[i]) * row_bytes + b];
}

}  // namespace heed

namespace heed {

void ReferenceBackend::do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) {
  const int64_t heads = src.shape()[1], from_capacity = src.shape()[2], to_capacity = dst.shape()[2], d = src.shape()[3];
  for (int64_t i = 0; i < rows.numel(); ++i)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t t = 0; t < length; ++t)
        for (int64_t j = 0; j < d; ++j)
          dst.f32()[((i * heads + h) * to_capacity + t) * d + j] =
              src.f32()[((rows.data<int32_t>()[i] * heads + h) * from_capacity + t) * d + j];
}

}  // namespace heed
