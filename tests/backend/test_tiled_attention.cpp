// Tiled attention (Backend::attention_forward/backward): the oneDNN backend's tiles against the
// reference backend's plain per-row formulas, on lengths that end inside and on tile edges, and
// against the plain path of ops (matmul, softmax over visible keys, dropout, matmul) it replaces.

#include <doctest/doctest.h>

#include <tuple>

#include "heed/backend/matmul_backward.h"
#include "heed/core/error.h"
#include "heed/devices/devices.h"
#include "support.h"

using namespace heed;
using namespace heed::test;

namespace {

constexpr double kTolerance = 1e-5;

struct Operands {
  Tensor q, k, v, d_out;
};

Operands random_operands(int64_t batch, int64_t heads, int64_t queries, int64_t keys, int64_t dim, Rng& rng) {
  return {random_tensor(Shape{batch, heads, queries, dim}, rng, -1.5f, 1.5f),
          random_tensor(Shape{batch, heads, keys, dim}, rng, -1.5f, 1.5f),
          random_tensor(Shape{batch, heads, keys, dim}, rng), random_tensor(Shape{batch, heads, queries, dim}, rng)};
}

struct Gradients {
  Tensor out, logsumexp, dq, dk, dv;
};

Gradients run_tiled(Backend& be, const Operands& x, const TiledAttention& a) {
  const Shape& s = x.q.shape();
  Gradients g{Tensor::empty(s), Tensor::empty(Shape{s[0], s[1], s[2]}), Tensor::empty(s), Tensor::empty(x.k.shape()),
              Tensor::empty(x.v.shape())};
  be.attention_forward(x.q, x.k, x.v, a, g.out, g.logsumexp);
  // Gradients start as garbage: backward writes them, whatever they held.
  be.fill(g.dq, 7.0);
  be.fill(g.dk, 7.0);
  be.fill(g.dv, 7.0);
  be.attention_backward(x.q, x.k, x.v, g.out, g.logsumexp, x.d_out, a, g.dq, g.dk, g.dv);
  return g;
}

// The same attention as three ops and their backward passes, the way the model computes it
// when it keeps the probabilities.
Gradients run_plain(Backend& be, const Operands& x, const TiledAttention& a) {
  const Shape& s = x.q.shape();
  const Shape scores_shape{s[0], s[1], s[2], x.k.shape()[2]};
  Tensor scores = Tensor::empty(scores_shape), probs = Tensor::empty(scores_shape), dropped = Tensor::empty(scores_shape);
  be.matmul(x.q, x.k, scores, {.transpose_b = true, .alpha = a.alpha});
  be.softmax_forward(scores, probs, a.visible);
  if (a.dropout > 0.0f)
    be.dropout_forward(probs, a.dropout, a.seed, dropped);
  else
    be.copy(probs, dropped);
  Gradients g{Tensor::empty(s), Tensor{}, Tensor::zeros(s), Tensor::zeros(x.k.shape()), Tensor::zeros(x.v.shape())};
  be.matmul(dropped, x.v, g.out);
  Tensor d_dropped = Tensor::empty(scores_shape), d_probs = Tensor::empty(scores_shape), d_scores = Tensor::empty(scores_shape);
  matmul_backward(be, dropped, x.v, x.d_out, {}, {.da = &d_dropped, .db = &g.dv});
  if (a.dropout > 0.0f)
    be.dropout_backward(d_dropped, a.dropout, a.seed, d_probs, Accumulate::no);
  else
    be.copy(d_dropped, d_probs);
  be.softmax_backward(probs, d_probs, d_scores, Accumulate::no);
  matmul_backward(be, x.q, x.k, d_scores, {.transpose_b = true, .alpha = a.alpha}, {.da = &g.dq, .db = &g.dk});
  return g;
}

void expect_close(const Gradients& fast, const Gradients& slow, double tolerance) {
  CHECK(normalized_error(fast.out, slow.out) <= tolerance);
  CHECK(normalized_error(fast.dq, slow.dq) <= tolerance);
  CHECK(normalized_error(fast.dk, slow.dk) <= tolerance);
  CHECK(normalized_error(fast.dv, slow.dv) <= tolerance);
}

}  // namespace

TEST_CASE("tiled attention equals the reference, forward and backward: odd lengths, tile edges, padding, causal, windows, global positions, dropout") {
  auto tested = backend_under_test();  // oneDNN, or HEED_TEST_DEVICE
  auto reference = make_backend(BackendKind::reference);
  Rng rng(31);
  // Tiles are 128 × 128: lengths below, on and across their edges.
  for (auto [queries, keys] : std::vector<std::tuple<int64_t, int64_t>>{{1, 1}, {7, 9}, {128, 128}, {129, 300}, {300, 129}}) {
    const int64_t batch = 2, heads = 2, dim = queries > 100 ? 8 : 5;
    const Operands x = random_operands(batch, heads, queries, keys, dim, rng);
    const Tensor lengths = ids_tensor({static_cast<int32_t>(keys), static_cast<int32_t>((keys + 1) / 2)});
    for (const TiledAttention& a : {TiledAttention{.alpha = 0.5f},
                                    TiledAttention{.alpha = 0.5f, .visible = {.lengths = &lengths}},
                                    TiledAttention{.alpha = 1.0f, .visible = {.causal = true}},
                                    TiledAttention{.alpha = 0.5f, .visible = {.lengths = &lengths, .window = 3, .global = 2}},
                                    TiledAttention{.alpha = 0.5f, .visible = {.causal = true, .window = 40}},
                                    TiledAttention{.alpha = 0.5f, .visible = {.lengths = &lengths, .causal = true}, .dropout = 0.25f, .seed = 99},
                                    TiledAttention{.alpha = 0.5f, .visible = {.window = 130, .global = 1}, .dropout = 0.1f, .seed = 5}}) {
      CAPTURE(queries);
      CAPTURE(keys);
      CAPTURE(a.visible.window);
      CAPTURE(a.visible.causal);
      CAPTURE(a.dropout);
      const Gradients fast = run_tiled(*tested, x, a), slow = run_tiled(*reference, x, a);
      expect_close(fast, slow, kTolerance);
      // logsumexp is −inf exactly where the reference says a query sees nothing.
      bool same_blind_rows = true;
      for (int64_t r = 0; r < fast.logsumexp.numel(); ++r) {
        const float f = fast.logsumexp.f32()[r], s = slow.logsumexp.f32()[r];
        same_blind_rows = same_blind_rows && (std::isinf(f) == std::isinf(s)) && (std::isinf(f) || std::abs(f - s) < 1e-4);
      }
      CHECK(same_blind_rows);
    }
  }
}

TEST_CASE("tiled attention computes what matmul, softmax over visible keys, dropout and matmul compute, and their gradients") {
  auto be = backend_under_test();
  Rng rng(32);
  const int64_t batch = 3, heads = 2, queries = 140, keys = 261, dim = 16;
  const Operands x = random_operands(batch, heads, queries, keys, dim, rng);
  const Tensor lengths = ids_tensor({261, 200, 1});
  // Every query sees some key here (the plain path makes a blind row uniform, the tiled one zero).
  for (const TiledAttention& a : {TiledAttention{.alpha = 0.25f, .visible = {.lengths = &lengths}},
                                  TiledAttention{.alpha = 0.25f, .visible = {.causal = true, .window = 17}},
                                  TiledAttention{.alpha = 0.25f, .visible = {.window = 64, .global = 3}, .dropout = 0.3f, .seed = 8},
                                  TiledAttention{.alpha = 0.25f, .visible = {.lengths = &lengths, .causal = true}, .dropout = 0.1f, .seed = 1}}) {
    CAPTURE(a.visible.window);
    CAPTURE(a.dropout);
    expect_close(run_tiled(*be, x, a), run_plain(*be, x, a), kTolerance);
  }
}

TEST_CASE("tiled attention gives a query that sees no key zeros, and it takes no gradient") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(33);
    const Operands x = random_operands(1, 1, 10, 10, 4, rng);
    const Tensor lengths = ids_tensor({2});
    // Queries past position 2 + 2 see nothing of keys [0, 2) through a window of 2.
    const Gradients g = run_tiled(*be, x, {.visible = {.lengths = &lengths, .window = 2}});
    for (int64_t t = 0; t < 10; ++t) {
      CAPTURE(t);
      const bool blind = t > 3;
      CHECK(std::isinf(g.logsumexp.f32()[t]) == blind);
      for (int64_t j = 0; j < 4; ++j) {
        if (blind) CHECK(g.out.f32()[t * 4 + j] == 0.0f);
        if (blind) CHECK(g.dq.f32()[t * 4 + j] == 0.0f);
      }
    }
    for (int64_t s = 2; s < 10; ++s)  // keys past the length take no gradient
      for (int64_t j = 0; j < 4; ++j) CHECK(g.dk.f32()[s * 4 + j] == 0.0f);
  }
}

TEST_CASE("tiled attention rejects operands of the wrong shapes") {
  auto be = make_backend(BackendKind::onednn);
  const Tensor q = Tensor::zeros(Shape{1, 2, 3, 4}), k = Tensor::zeros(Shape{1, 2, 5, 4}), bad = Tensor::zeros(Shape{1, 2, 5, 3});
  Tensor out = Tensor::empty(q.shape()), lse = Tensor::empty(Shape{1, 2, 3});
  CHECK_THROWS_WITH_AS(be->attention_forward(q, k, bad, {}, out, lse), doctest::Contains("attention_forward"), Error);
  CHECK_THROWS_WITH_AS(be->attention_forward(q, k, k, {}, out, Tensor::empty(Shape{1, 2, 5})),
                       doctest::Contains("logsumexp"), Error);
}
