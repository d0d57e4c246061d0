// Finite-difference checks of every backward op, on every backend. The objective is
// L = Σ w ⊙ y with fixed random w; its gradient through an op's backward (dy = w) must match
// central differences (L(x + h) − L(x − h)) / 2h for every element of every input.
// f32 forward passes with h = 1e-2 leave ~1e-4 of rounding and truncation noise; the
// tolerance is 1e-2 of the largest gradient.

#include <doctest/doctest.h>

#include <functional>

#include "heed/backend/matmul_backward.h"
#include "heed/model/config.h"
#include "support.h"

using namespace heed;
using namespace heed::test;

namespace {

constexpr double kStep = 1e-2;
constexpr double kTolerance = 1e-2;

double weighted_sum(const Tensor& y, const Tensor& w) {
  double sum = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) sum += static_cast<double>(y.f32()[i]) * w.f32()[i];
  return sum;
}

// Compares `analytic` (the gradient of Σ w ⊙ forward() with respect to `input`) with central
// differences obtained by perturbing `input` in place.
void expect_gradient(const char* what, const Tensor& input, const Tensor& analytic, const Tensor& w,
                     const std::function<Tensor()>& forward) {
  CAPTURE(what);
  Tensor numeric = Tensor::empty(input.shape());
  for (int64_t i = 0; i < input.numel(); ++i) {
    const float saved = input.f32()[i];
    input.f32()[i] = saved + static_cast<float>(kStep);
    const double plus = weighted_sum(forward(), w);
    input.f32()[i] = saved - static_cast<float>(kStep);
    const double minus = weighted_sum(forward(), w);
    input.f32()[i] = saved;
    numeric.f32()[i] = static_cast<float>((plus - minus) / (2 * kStep));
  }
  double max_diff = 0.0, max_grad = 1e-3;
  for (int64_t i = 0; i < numeric.numel(); ++i) {
    max_diff = std::max(max_diff, std::abs(static_cast<double>(numeric.f32()[i]) - analytic.f32()[i]));
    max_grad = std::max(max_grad, std::abs(static_cast<double>(numeric.f32()[i])));
  }
  CHECK(max_diff / max_grad <= kTolerance);
  CHECK(max_grad > 1e-3);  // a gradient of all zeros would pass trivially
}

}  // namespace

TEST_CASE("matmul's gradients match finite differences in every layout, with bias and broadcast weights") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(1);
    for (int layout = 0; layout < 4; ++layout) {
      for (int b_form = 0; b_form < 2; ++b_form) {
        const bool ta = layout & 1, tb = layout & 2;
        CAPTURE(layout);
        CAPTURE(b_form);
        const int64_t batch = 2, m = 3, k = 4, n = 5;
        Tensor a = random_tensor(ta ? Shape{batch, k, m} : Shape{batch, m, k}, rng);
        Tensor b = random_tensor(b_form ? (tb ? Shape{n, k} : Shape{k, n})
                                        : (tb ? Shape{batch, n, k} : Shape{batch, k, n}), rng);
        Tensor bias = random_tensor(Shape{n}, rng);
        MatmulOptions fwd{.transpose_a = ta, .transpose_b = tb};
        if (b_form) fwd.bias = &bias;
        else fwd.alpha = 0.7f;
        const auto forward = [&] {
          Tensor c = Tensor::empty(Shape{batch, m, n});
          be->matmul(a, b, c, fwd);
          return c;
        };
        const Tensor w = random_tensor(Shape{batch, m, n}, rng);
        Tensor da = Tensor::zeros(a.shape()), db = Tensor::zeros(b.shape()), dbias = Tensor::zeros(Shape{n});
        matmul_backward(*be, a, b, w, fwd, {.da = &da, .db = &db, .dbias = b_form ? &dbias : nullptr});
        expect_gradient("da", a, da, w, forward);
        expect_gradient("db", b, db, w, forward);
        if (b_form) expect_gradient("dbias", bias, dbias, w, forward);
      }
    }
  }
}

TEST_CASE("attention (scaled scores, softmax over visible keys) has the gradients of an unmasked one at kept positions") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(2);
    Tensor q = random_tensor(Shape{2, 2, 3, 4}, rng), k = random_tensor(Shape{2, 2, 5, 4}, rng);
    const Tensor lengths = ids_tensor({5, 4});  // sentence 1's last key is padding
    const MatmulOptions fwd{.transpose_b = true, .alpha = 0.5f};
    const auto forward = [&] {
      Tensor s = Tensor::empty(Shape{2, 2, 3, 5});
      be->matmul(q, k, s, fwd);
      Tensor p = Tensor::empty(s.shape());
      be->softmax_forward(s, p, {.lengths = &lengths, .causal = true, .first_query = 1});
      return p;
    };
    const Tensor w = random_tensor(Shape{2, 2, 3, 5}, rng);
    const Tensor p = forward();
    Tensor ds = Tensor::empty(p.shape());
    be->softmax_backward(p, w, ds, Accumulate::no);
    Tensor dq = Tensor::zeros(q.shape()), dk = Tensor::zeros(k.shape());
    matmul_backward(*be, q, k, ds, fwd, {.da = &dq, .db = &dk});
    expect_gradient("dq", q, dq, w, forward);
    expect_gradient("dk", k, dk, w, forward);
  }
}

TEST_CASE("tiled attention's gradients match finite differences: padding, a causal window, global positions, dropout") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(4);
    Tensor q = random_tensor(Shape{2, 2, 5, 3}, rng), k = random_tensor(Shape{2, 2, 6, 3}, rng),
           v = random_tensor(Shape{2, 2, 6, 3}, rng);
    const Tensor lengths = ids_tensor({6, 4});
    for (const TiledAttention& a : {TiledAttention{.alpha = 0.7f, .visible = {.lengths = &lengths}},
                                    TiledAttention{.alpha = 0.7f, .visible = {.causal = true, .window = 2}, .dropout = 0.2f, .seed = 3},
                                    TiledAttention{.alpha = 0.7f, .visible = {.lengths = &lengths, .window = 1, .global = 1}}}) {
      CAPTURE(a.visible.window);
      const auto forward = [&] {
        Tensor out = Tensor::empty(q.shape()), lse = Tensor::empty(Shape{2, 2, 5});
        be->attention_forward(q, k, v, a, out, lse);
        return out;
      };
      const Tensor w = random_tensor(q.shape(), rng);
      const Tensor out = forward();
      Tensor lse = Tensor::empty(Shape{2, 2, 5});
      be->attention_forward(q, k, v, a, out, lse);
      Tensor dq = Tensor::empty(q.shape()), dk = Tensor::empty(k.shape()), dv = Tensor::empty(v.shape());
      be->attention_backward(q, k, v, out, lse, w, a, dq, dk, dv);
      expect_gradient("dq", q, dq, w, forward);
      expect_gradient("dk", k, dk, w, forward);
      expect_gradient("dv", v, dv, w, forward);
    }
  }
}

TEST_CASE("softmax's gradient matches finite differences, a masked score included") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(3);
    Tensor x = random_tensor(Shape{3, 1, 1, 7}, rng, -2.0f, 2.0f);
    const Tensor lengths = ids_tensor({6, 7, 7});  // the first row's last score is hidden
    const auto forward = [&] {
      Tensor scores = Tensor::empty(x.shape()), y = Tensor::empty(x.shape());
      scores.copy_from(x);  // the backend may overwrite hidden scores
      be->softmax_forward(scores, y, {.lengths = &lengths});
      return y;
    };
    const Tensor w = random_tensor(x.shape(), rng);
    const Tensor y = forward();
    Tensor dx = Tensor::empty(x.shape());
    be->softmax_backward(y, w, dx, Accumulate::no);
    expect_gradient("softmax dx", x, dx, w, forward);
  }
}

TEST_CASE("layer norm's gradients match finite differences for x, gamma and beta") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(4);
    const float eps = 1e-5f;
    Tensor x = random_tensor(Shape{4, 6}, rng, -2.0f, 2.0f);
    Tensor gamma = random_tensor(Shape{6}, rng, 0.5f, 1.5f), beta = random_tensor(Shape{6}, rng);
    Tensor mean = Tensor::empty(Shape{4}), var = Tensor::empty(Shape{4});
    const auto forward = [&] {
      Tensor y = Tensor::empty(x.shape());
      be->layer_norm_forward(x, gamma, beta, eps, y, mean, var);
      return y;
    };
    const Tensor w = random_tensor(x.shape(), rng);
    forward();
    Tensor dx = Tensor::empty(x.shape()), dgamma = Tensor::zeros(Shape{6}), dbeta = Tensor::zeros(Shape{6});
    be->layer_norm_backward(x, w, gamma, mean, var, eps, dx, dgamma, dbeta, Accumulate::no);
    expect_gradient("dx", x, dx, w, forward);
    expect_gradient("dgamma", gamma, dgamma, w, forward);
    expect_gradient("dbeta", beta, dbeta, w, forward);
  }
}

TEST_CASE("ReLU, GELU and dropout gradients match finite differences") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(5);
    Tensor x = random_tensor(Shape{5, 9}, rng, -3.0f, 3.0f);
    for (int64_t i = 0; i < x.numel(); ++i)  // keep ReLU's kink out of the finite-difference stencil
      if (std::abs(x.f32()[i]) < 0.05f) x.f32()[i] = 0.5f;
    for (Activation kind : {Activation::relu, Activation::gelu, Activation::swish}) {
      const auto forward = [&] {
        Tensor y = Tensor::empty(x.shape());
        be->activation_forward(kind, x, y);
        return y;
      };
      const Tensor w = random_tensor(x.shape(), rng);
      Tensor dx = Tensor::empty(x.shape());
      be->activation_backward(kind, x, w, dx, Accumulate::no);
      expect_gradient(to_string(kind).c_str(), x, dx, w, forward);
    }
    const auto dropout = [&] {
      Tensor y = Tensor::empty(x.shape());
      be->dropout_forward(x, 0.3f, 99, y);
      return y;
    };
    const Tensor w = random_tensor(x.shape(), rng);
    Tensor dx = Tensor::empty(x.shape());
    be->dropout_backward(w, 0.3f, 99, dx, Accumulate::no);
    expect_gradient("dropout", x, dx, w, dropout);
  }
}

TEST_CASE("embedding, add with broadcast and axpy gradients match finite differences") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(6);
    Tensor table = random_tensor(Shape{5, 4}, rng);
    const Tensor ids = ids_tensor({1, 4, 1, 0, 1, 2});  // 3 never appears: its gradient is zero
    Tensor positions = random_tensor(Shape{1, 3, 4}, rng);  // broadcast over 2 sentences of 3 tokens
    // y = 2 · (table[ids] reshaped [2, 3, 4] + positions), then scaled by −0.5
    const auto forward = [&] {
      Tensor e = Tensor::empty(Shape{6, 4});
      be->embedding_forward(table, ids, 2.0f, e);
      Tensor sum = Tensor::empty(Shape{2, 3, 4});
      be->add(e.reshape(Shape{2, 3, 4}), positions, sum);
      Tensor y = Tensor::zeros(sum.shape());
      be->axpy(-0.5f, sum, y);
      return y;
    };
    const Tensor w = random_tensor(Shape{2, 3, 4}, rng);
    Tensor dsum = Tensor::zeros(w.shape());
    be->axpy(-0.5f, w, dsum);
    Tensor dtable = Tensor::zeros(table.shape()), dpositions = Tensor::zeros(Shape{12});
    be->embedding_backward(ids, dsum.reshape(Shape{6, 4}), 2.0f, dtable);
    be->sum_rows(dsum.reshape(Shape{2, 12}), dpositions, Accumulate::yes);  // broadcast's gradient: sum over it
    expect_gradient("dtable", table, dtable, w, forward);
    expect_gradient("dpositions", positions, dpositions.reshape(Shape{1, 3, 4}), w, forward);
  }
}

TEST_CASE("label-smoothed cross-entropy's gradient matches finite differences") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(7);
    Tensor logits = random_tensor(Shape{4, 6}, rng, -2.0f, 2.0f);
    const Tensor targets = ids_tensor({2, 0, 5, 1});  // 0 is padding
    const CrossEntropyOptions options{.label_smoothing = 0.1f, .ignore_id = 0};
    Tensor log_probs = Tensor::empty(logits.shape());
    const auto forward = [&] {
      Tensor loss = Tensor::empty(Shape{1});
      loss.f32()[0] = static_cast<float>(be->cross_entropy_forward(logits, targets, options, log_probs).loss);
      return loss;
    };
    Tensor w = Tensor::empty(Shape{1});
    w.f32()[0] = 1.0f;
    forward();
    Tensor dlogits = Tensor::empty(logits.shape());
    be->cross_entropy_backward(log_probs, targets, options, 1.0f, dlogits, Accumulate::no);
    expect_gradient("dlogits", logits, dlogits, w, forward);
  }
}

TEST_CASE("additive attention scores' gradients match finite differences for q, k and v") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(8);
    Tensor q = random_tensor(Shape{2, 2, 3, 4}, rng), k = random_tensor(Shape{2, 2, 5, 4}, rng);
    Tensor v = random_tensor(Shape{2, 4}, rng);
    const auto forward = [&] {
      Tensor scores = Tensor::empty(Shape{2, 2, 3, 5});
      be->additive_scores_forward(q, k, v, scores);
      return scores;
    };
    const Tensor w = random_tensor(Shape{2, 2, 3, 5}, rng);
    Tensor dq = Tensor::empty(q.shape()), dk = Tensor::empty(k.shape()), dv = Tensor::zeros(v.shape());
    be->additive_scores_backward(q, k, v, w, dq, dk, dv, Accumulate::no);
    expect_gradient("dq", q, dq, w, forward);
    expect_gradient("dk", k, dk, w, forward);
    expect_gradient("dv", v, dv, w, forward);
  }
}

TEST_CASE("splitting heads passes gradients through unchanged in position") {
  for (auto& be : all_backends()) {
    CAPTURE(be->name());
    Rng rng(9);
    Tensor x = random_tensor(Shape{2, 3, 2, 4}, rng);
    const auto forward = [&] {
      Tensor y = Tensor::empty(Shape{2, 2, 3, 4});
      be->swap_axes_12(x, y);
      return y;
    };
    const Tensor w = random_tensor(Shape{2, 2, 3, 4}, rng);
    Tensor dx = Tensor::empty(x.shape());
    be->swap_axes_12(w, dx);
    expect_gradient("dx", x, dx, w, forward);
  }
}
