// The CPU backend's attention_forward and attention_backward: attention in tiles of kQueryTile
// queries by kKeyTile keys, for all B·H heads at once. Each tile's products are oneDNN batched
// matmuls reading q, k and v where they lie (strided views, no copies); between them, loops over
// the tile's rows mask, exponentiate and keep each row's running maximum and sum (the online
// softmax). Scratch is a few tiles and a few numbers per query row: linear in the length.
//
// Forward, per query tile, for each key tile some query of it sees:
//   S = alpha·Q·Kᵀ;  m' = max(m, rowmax S);  P = e^(S − m');  l = l·e^(m − m') + rowsum P;
//   out = out·e^(m − m') + dropout(P)·V;  then out /= l and logsumexp = m + log l.
// Backward (FlashAttention's, with D = rowsum(dO ⊙ out)), per tile pair:
//   P = e^(S − logsumexp);  dV += dropout(P)ᵀ·dO;  dP = dropout'(dO·Vᵀ);  dS = P ⊙ (dP − D);
//   dQ += alpha·dS·K;  dK += alpha·dSᵀ·Q.

#include <cmath>

#include "heed/backend/onednn/backend_state.h"
#include "heed/backend/onednn/vector_math.h"
#include "heed/core/rng.h"

namespace heed {
namespace {

using dnnl::memory;

constexpr int64_t kQueryTile = 128;
constexpr int64_t kKeyTile = 128;

// A batch of equally shaped matrices inside a larger buffer: element (g, i, j) lies at
// data + g·batch + i·row + j·col (a tile of q, k or v; a transposed view swaps row and col).
struct Strided {
  const float* data;
  int64_t rows, cols, batch, row, col;
  Strided transposed() const { return {data, cols, rows, batch, col, row}; }
  memory::desc desc(int64_t groups) const { return memory::desc({groups, rows, cols}, memory::data_type::f32, {batch, row, col}); }
};

// c[g] = alpha · a[g] · b[g] (+ c[g] when accumulating) for g < groups, as one oneDNN matmul.
void tile_product(PrimitiveCache& cache, const dnnl::engine& engine, dnnl::stream& stream, int64_t groups,
                  const Strided& a, const Strided& b, const Strided& c, float alpha, bool accumulate) {
  PrimitiveKey key = onednn_detail::key_for(onednn_detail::Op::tile_matmul);
  key.add(groups).add(alpha).add(static_cast<int64_t>(accumulate));
  for (const Strided* m : {&a, &b, &c}) key.add(m->rows).add(m->cols).add(m->batch).add(m->row).add(m->col);
  CachedPrimitive& p = cache.get(key, [&] {
    return onednn_detail::build_or_fail("tiled attention's matmul", [&] {
      dnnl::primitive_attr attr;
      if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
      dnnl::post_ops post_ops;
      if (accumulate) post_ops.append_sum(1.0f);
      attr.set_post_ops(post_ops);
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a.desc(groups), b.desc(groups), c.desc(groups)), attr, engine);
      CachedPrimitive built;
      built.primitive = dnnl::matmul(pd);
      built.declare(DNNL_ARG_SRC, a.desc(groups), engine);
      built.declare(DNNL_ARG_WEIGHTS, b.desc(groups), engine);
      built.declare(DNNL_ARG_DST, c.desc(groups), engine);
      return built;
    });
  });
  p.bind(DNNL_ARG_SRC, a.data);
  p.bind(DNNL_ARG_WEIGHTS, b.data);
  p.bind(DNNL_ARG_DST, c.data);
  p.run(stream);
}

// The sizes of one call, and where a tile of each operand lies.
struct Layout {
  int64_t batch, heads, queries, keys, dim;
  int64_t groups() const { return batch * heads; }
  // Rows [first, first + count) of every head of a [B, H, length, d] tensor.
  Strided rows_of(const float* t, int64_t length, int64_t first, int64_t count) const {
    return {t + first * dim, count, dim, length * dim, dim, 1};
  }
  Strided query_rows(const float* t, int64_t first, int64_t count) const { return rows_of(t, queries, first, count); }
  Strided key_rows(const float* t, int64_t first, int64_t count) const { return rows_of(t, keys, first, count); }
};

// A dense [G, rows, cols] tile of scratch.
Strided dense(const float* data, int64_t rows, int64_t cols) { return {data, rows, cols, rows * cols, cols, 1}; }

// Which keys the queries [first, last) see at most, over all sequences: [0, head_end) and
// [tail_begin, tail_end), rounded out to whole key tiles (so that a call has at most two tile
// widths, the full one and the last one's, and as few primitives).
struct KeySpan {
  int64_t head_end = 0, tail_begin = 0, tail_end = 0;
};

KeySpan keys_seen(const VisibleKeys& visible, int64_t first, int64_t last, int64_t keys) {
  KeySpan span{0, keys, 0};
  for (int64_t t = first; t < last; ++t) {
    const VisibleKeys::Ranges r = visible.ranges(visible.first_query + t, keys);
    span.head_end = std::max(span.head_end, r.head_end);
    if (r.tail_end > r.tail_begin) {
      span.tail_begin = std::min(span.tail_begin, r.tail_begin);
      span.tail_end = std::max(span.tail_end, r.tail_end);
    }
  }
  const auto round_up = [&](int64_t s) { return std::min(keys, (s + kKeyTile - 1) / kKeyTile * kKeyTile); };
  span.head_end = round_up(span.head_end);
  span.tail_begin = std::max(span.head_end, span.tail_begin / kKeyTile * kKeyTile);
  span.tail_end = std::max(span.tail_begin, round_up(span.tail_end));
  return span;
}

// Calls visit(first key, key count) for each key tile of the span, in order.
template <typename Visit>
void for_each_key_tile(const KeySpan& span, int64_t keys, Visit&& visit) {
  for (int64_t s = 0; s < span.head_end; s += kKeyTile) visit(s, std::min(kKeyTile, keys - s));
  for (int64_t s = span.tail_begin; s < span.tail_end; s += kKeyTile) visit(s, std::min(kKeyTile, keys - s));
}

// The part of one query row's visible keys inside the key tile [first, first + count), as
// offsets into the tile: the intervals [begin[i], end[i]), in order (either may be empty).
struct TileKeys {
  int64_t begin[2], end[2];
  bool any() const { return end[0] > begin[0] || end[1] > begin[1]; }
};

TileKeys tile_keys(const TiledAttention& a, const Layout& n, int64_t b, int64_t t, int64_t first, int64_t count) {
  int64_t end = n.keys;
  if (a.visible.lengths) end = std::min<int64_t>(end, a.visible.lengths->data<int32_t>()[b]);
  const VisibleKeys::Ranges r = a.visible.ranges(a.visible.first_query + t, end);
  const auto clip = [&](int64_t s) { return std::clamp<int64_t>(s - first, 0, count); };
  return {{clip(0), clip(r.tail_begin)}, {clip(r.head_end), clip(r.tail_end)}};
}

// Multiplies row[s] of a query row's tile by what dropout does to probability (row, first + s).
void apply_dropout(const TiledAttention& a, const Layout& n, int64_t query_row, int64_t first, float* row, int64_t count) {
  const DropoutMask mask(a.seed, a.dropout);
  const float kept = 1.0f / (1.0f - a.dropout);
  const uint64_t base = a.first + static_cast<uint64_t>(query_row * n.keys + first);
  for (int64_t s = 0; s < count; ++s) row[s] = mask.keeps(base + static_cast<uint64_t>(s)) ? row[s] * kept : 0.0f;
}

// e^(row[s] − shift) on the tile's visible keys, 0 elsewhere; returns their sum. Compiled for
// AVX-512 and AVX2 besides the baseline (where e^x's rounding is a library call, not vectorised).
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
float exponentiate(float* row, int64_t count, const TileKeys& seen, float shift) {
  float sum = 0.0f;
  int64_t s = 0;
  for (int i = 0; i < 2; ++i) {
    for (; s < seen.begin[i]; ++s) row[s] = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = seen.begin[i]; j < seen.end[i]; ++j) {
      row[j] = exp_nonpositive(row[j] - shift);
      sum += row[j];
    }
    s = std::max(s, seen.end[i]);
  }
  for (; s < count; ++s) row[s] = 0.0f;
  return sum;
}

__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
float visible_max(const float* row, const TileKeys& seen) {
  float max = -INFINITY;
  for (int i = 0; i < 2; ++i)
#pragma omp simd reduction(max : max)
    for (int64_t j = seen.begin[i]; j < seen.end[i]; ++j) max = row[j] > max ? row[j] : max;  // maxps: vectorised
  return max;
}

// The forward pass's scratch: a tile of scores per head, and each tile row's running maximum
// and sum.
struct ForwardScratch {
  float* tile;
  float* running;
};

ForwardScratch forward_scratch(onednn_detail::Scratch& tiles, onednn_detail::Scratch& rows, int64_t groups) {
  return {tiles.floats(groups * kQueryTile * kKeyTile), rows.floats(2 * groups * kQueryTile)};
}

}  // namespace

void OneDnnBackend::reserve_attention_scratch(const Tensor& q, const Tensor& k) {
  const Layout n{q.shape()[0], q.shape()[1], q.shape()[2], k.shape()[2], q.shape()[3]};
  forward_scratch(state_->attention_tiles, state_->attention_rows, n.groups());
}

void OneDnnBackend::do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                                         const Tensor& out, const Tensor& logsumexp) {
  const Layout n{q.shape()[0], q.shape()[1], q.shape()[2], k.shape()[2], q.shape()[3]};
  const int64_t groups = n.groups();
  const ForwardScratch scratch = forward_scratch(state_->attention_tiles, state_->attention_rows, groups);
  float* tile = scratch.tile;
  float* running = scratch.running;  // each row's maximum, then its sum
  const auto product = [&](const Strided& x, const Strided& y, const Strided& z, float alpha, bool accumulate) {
    tile_product(state_->cache, state_->engine, state_->stream, groups, x, y, z, alpha, accumulate);
  };
  for (int64_t first = 0; first < n.queries; first += kQueryTile) {
    const int64_t count = std::min(kQueryTile, n.queries - first), rows = groups * count;
    float* row_max = running;
    float* row_sum = running + rows;
    for (int64_t r = 0; r < rows; ++r) {
      row_max[r] = -INFINITY;
      row_sum[r] = 0.0f;
    }
    const Strided out_tile = n.query_rows(out.f32(), first, count);
    for (int64_t g = 0; g < groups; ++g)
      std::fill_n(out.f32() + g * n.queries * n.dim + first * n.dim, count * n.dim, 0.0f);

    for_each_key_tile(keys_seen(a.visible, first, first + count, n.keys), n.keys, [&](int64_t key_first, int64_t keys) {
      product(n.query_rows(q.f32(), first, count), n.key_rows(k.f32(), key_first, keys).transposed(),
              dense(tile, count, keys), a.alpha, false);
#pragma omp parallel for if (rows * keys > (1 << 14))
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t g = r / count, t = first + r % count;
        float* row = tile + r * keys;
        const TileKeys seen = tile_keys(a, n, g / n.heads, t, key_first, keys);
        const float tile_max = visible_max(row, seen);
        if (tile_max == -INFINITY) {  // sees nothing here: adds nothing
          std::fill_n(row, keys, 0.0f);
          continue;
        }
        const float max = std::max(row_max[r], tile_max);
        const float rescale = std::exp(row_max[r] - max);  // 0 for the first visible tile
        row_sum[r] = row_sum[r] * rescale + exponentiate(row, keys, seen, max);
        row_max[r] = max;
        if (rescale != 1.0f) {
          float* o = out.f32() + (g * n.queries + t) * n.dim;
#pragma omp simd
          for (int64_t j = 0; j < n.dim; ++j) o[j] *= rescale;
        }
        if (a.dropout > 0.0f) apply_dropout(a, n, g * n.queries + t, key_first, row, keys);
      }
      product(dense(tile, count, keys), n.key_rows(v.f32(), key_first, keys), out_tile, 1.0f, true);
    });

#pragma omp parallel for if (rows * n.dim > (1 << 14))
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t g = r / count, t = first + r % count;
      float* o = out.f32() + (g * n.queries + t) * n.dim;
      const bool seen = row_sum[r] > 0.0f;
      const float inverse = seen ? 1.0f / row_sum[r] : 0.0f;
#pragma omp simd
      for (int64_t j = 0; j < n.dim; ++j) o[j] *= inverse;
      logsumexp.f32()[g * n.queries + t] = seen ? row_max[r] + std::log(row_sum[r]) : -INFINITY;
    }
  }
}

void OneDnnBackend::do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                          const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a,
                                          const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  const Layout n{q.shape()[0], q.shape()[1], q.shape()[2], k.shape()[2], q.shape()[3]};
  const int64_t groups = n.groups(), tile_size = groups * kQueryTile * kKeyTile;
  float* probs = state_->attention_tiles.floats(3 * tile_size);
  float* dropped = a.dropout > 0.0f ? probs + tile_size : probs;  // what multiplied v
  float* d_probs = probs + 2 * tile_size;
  // D = rowsum(dO ⊙ out) = Σ_s p_s · ∂L/∂p_s, each query row's.
  float* d_sum = state_->attention_rows.floats(groups * n.queries);
#pragma omp parallel for if (q.numel() > (1 << 14))
  for (int64_t r = 0; r < groups * n.queries; ++r) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < n.dim; ++j) sum += d_out.f32()[r * n.dim + j] * out.f32()[r * n.dim + j];
    d_sum[r] = sum;
  }
  fill(dq, 0.0);
  fill(dk, 0.0);
  fill(dv, 0.0);
  const auto product = [&](const Strided& x, const Strided& y, const Strided& z, float alpha, bool accumulate) {
    tile_product(state_->cache, state_->engine, state_->stream, groups, x, y, z, alpha, accumulate);
  };
  for (int64_t first = 0; first < n.queries; first += kQueryTile) {
    const int64_t count = std::min(kQueryTile, n.queries - first), rows = groups * count;
    const Strided q_tile = n.query_rows(q.f32(), first, count), d_out_tile = n.query_rows(d_out.f32(), first, count);
    for_each_key_tile(keys_seen(a.visible, first, first + count, n.keys), n.keys, [&](int64_t key_first, int64_t keys) {
      const Strided k_tile = n.key_rows(k.f32(), key_first, keys), v_tile = n.key_rows(v.f32(), key_first, keys);
      product(q_tile, k_tile.transposed(), dense(probs, count, keys), a.alpha, false);
#pragma omp parallel for if (rows * keys > (1 << 14))
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t g = r / count, t = first + r % count;
        float* row = probs + r * keys;
        const float lse = logsumexp.f32()[g * n.queries + t];
        const TileKeys seen = lse == -INFINITY ? TileKeys{{0, 0}, {0, 0}} : tile_keys(a, n, g / n.heads, t, key_first, keys);
        exponentiate(row, keys, seen, lse);
        if (a.dropout > 0.0f) {
          std::copy_n(row, keys, dropped + r * keys);
          apply_dropout(a, n, g * n.queries + t, key_first, dropped + r * keys, keys);
        }
      }
      product(dense(dropped, count, keys).transposed(), d_out_tile, n.key_rows(dv.f32(), key_first, keys), 1.0f, true);
      product(d_out_tile, v_tile.transposed(), dense(d_probs, count, keys), 1.0f, false);
#pragma omp parallel for if (rows * keys > (1 << 14))
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t g = r / count, t = first + r % count;
        float* dp = d_probs + r * keys;
        if (a.dropout > 0.0f) apply_dropout(a, n, g * n.queries + t, key_first, dp, keys);
        const float* p = probs + r * keys;
        const float d = d_sum[g * n.queries + t];
#pragma omp simd
        for (int64_t s = 0; s < keys; ++s) dp[s] = p[s] * (dp[s] - d);  // dS; 0 where p is
      }
      product(dense(d_probs, count, keys), k_tile, n.query_rows(dq.f32(), first, count), a.alpha, true);
      product(dense(d_probs, count, keys).transposed(), q_tile, n.key_rows(dk.f32(), key_first, keys), a.alpha, true);
    });
  }
}

}  // namespace heed
