// The reference backend's attention_forward and attention_backward: each query row on its own, in
// double, straight from the formulas (no tiles, no running maximum). The oneDNN backend's tiled
// version is checked against this one.

#include <cmath>
#include <vector>

#include "heed/backend/reference/reference_backend.h"
#include "heed/core/rng.h"

namespace heed {
namespace {

struct AttentionShape {
  int64_t batch, heads, queries, keys, dim;
  explicit AttentionShape(const Tensor& q, const Tensor& k)
      : batch(q.shape()[0]), heads(q.shape()[1]), queries(q.shape()[2]), keys(k.shape()[2]), dim(q.shape()[3]) {}
};

// The keys query t of sequence b sees.
VisibleKeys::Ranges seen_by(const TiledAttention& a, const AttentionShape& n, int64_t b, int64_t t) {
  int64_t end = n.keys;
  if (a.visible.lengths) end = std::min<int64_t>(end, a.visible.lengths->data<int32_t>()[b]);
  return a.visible.ranges(a.visible.first_query + t, end);
}

// What dropout multiplies probability [b, h, t, s] by: 0 or 1 / (1 − p).
double dropout_factor(const TiledAttention& a, const AttentionShape& n, int64_t row, int64_t s) {
  if (a.dropout <= 0.0f) return 1.0;
  const DropoutMask mask(a.seed, a.dropout);
  return mask.keeps(a.first + static_cast<uint64_t>(row * n.keys + s)) ? 1.0 / (1.0 - static_cast<double>(a.dropout)) : 0.0;
}

double score(const TiledAttention& a, const float* q, const float* k, int64_t dim) {
  double dot = 0.0;
  for (int64_t j = 0; j < dim; ++j) dot += static_cast<double>(q[j]) * k[j];
  return a.alpha * dot;
}

}  // namespace

void ReferenceBackend::do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                                            const Tensor& out, const Tensor& logsumexp) {
  const AttentionShape n(q, k);
  std::vector<double> p(static_cast<size_t>(n.keys)), o(static_cast<size_t>(n.dim));
  for (int64_t b = 0; b < n.batch; ++b)
    for (int64_t h = 0; h < n.heads; ++h)
      for (int64_t t = 0; t < n.queries; ++t) {
        const int64_t head = b * n.heads + h, row = head * n.queries + t;
        const float* qr = q.f32() + row * n.dim;
        const float* keys = k.f32() + head * n.keys * n.dim;
        const float* values = v.f32() + head * n.keys * n.dim;
        const VisibleKeys::Ranges seen = seen_by(a, n, b, t);
        double max = -INFINITY, sum = 0.0;
        for (int64_t s = 0; s < n.keys; ++s)
          if (seen.contains(s)) max = std::max(max, p[s] = score(a, qr, keys + s * n.dim, n.dim));
        for (int64_t s = 0; s < n.keys; ++s)
          if (seen.contains(s)) sum += (p[s] = std::exp(p[s] - max));
        std::fill(o.begin(), o.end(), 0.0);
        for (int64_t s = 0; s < n.keys; ++s) {
          if (!seen.contains(s)) continue;
          const double weight = p[s] / sum * dropout_factor(a, n, row, s);
          for (int64_t j = 0; j < n.dim; ++j) o[j] += weight * values[s * n.dim + j];
        }
        for (int64_t j = 0; j < n.dim; ++j) out.f32()[row * n.dim + j] = static_cast<float>(o[j]);
        logsumexp.f32()[row] = seen.count() > 0 ? static_cast<float>(max + std::log(sum)) : -INFINITY;
      }
}

void ReferenceBackend::do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& /*out*/,
                                             const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a,
                                             const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  const AttentionShape n(q, k);
  std::vector<double> gq(static_cast<size_t>(q.numel()), 0.0), gk(static_cast<size_t>(k.numel()), 0.0),
      gv(static_cast<size_t>(v.numel()), 0.0), p(static_cast<size_t>(n.keys)), dp(static_cast<size_t>(n.keys));
  for (int64_t b = 0; b < n.batch; ++b)
    for (int64_t h = 0; h < n.heads; ++h)
      for (int64_t t = 0; t < n.queries; ++t) {
        const int64_t head = b * n.heads + h, row = head * n.queries + t;
        const VisibleKeys::Ranges seen = seen_by(a, n, b, t);
        if (seen.count() <= 0) continue;  // out = 0 whatever q, k and v are
        const float* qr = q.f32() + row * n.dim;
        const float* dor = d_out.f32() + row * n.dim;
        const int64_t first_key = head * n.keys;
        // p = softmax over the seen keys; dp = ∂L/∂p through the dropout; D = Σ p · dp.
        double d_sum = 0.0;
        for (int64_t s = 0; s < n.keys; ++s) {
          if (!seen.contains(s)) continue;
          const float* key = k.f32() + (first_key + s) * n.dim;
          const float* value = v.f32() + (first_key + s) * n.dim;
          p[s] = std::exp(score(a, qr, key, n.dim) - logsumexp.f32()[row]);
          const double factor = dropout_factor(a, n, row, s);
          double dot = 0.0;
          for (int64_t j = 0; j < n.dim; ++j) dot += static_cast<double>(dor[j]) * value[j];
          dp[s] = dot * factor;
          d_sum += p[s] * dp[s];
          for (int64_t j = 0; j < n.dim; ++j) gv[(first_key + s) * n.dim + j] += p[s] * factor * dor[j];
        }
        for (int64_t s = 0; s < n.keys; ++s) {
          if (!seen.contains(s)) continue;
          const double d_score = a.alpha * p[s] * (dp[s] - d_sum);
          const float* key = k.f32() + (first_key + s) * n.dim;
          for (int64_t j = 0; j < n.dim; ++j) {
            gq[row * n.dim + j] += d_score * key[j];
            gk[(first_key + s) * n.dim + j] += d_score * qr[j];
          }
        }
      }
  const auto store = [](const std::vector<double>& from, const Tensor& to) {
    for (size_t i = 0; i < from.size(); ++i) to.f32()[i] = static_cast<float>(from[i]);
  };
  store(gq, dq);
  store(gk, dk);
  store(gv, dv);
}

}  // namespace heed
