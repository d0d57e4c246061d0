// Every oneDNN op against the reference backend on random shapes, sizes 1 and odd sizes
// included, with guard bytes around every output. Tolerance: normalised error ≤ 1e-5 (f32
// kernels against double accumulation; the largest reductions here are ~300 terms).

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

struct Pair {
  std::unique_ptr<Backend> tested = backend_under_test();  // oneDNN, or HEED_TEST_DEVICE
  std::unique_ptr<Backend> reference = make_backend(BackendKind::reference);
};

// Runs `op(backend, out)` on both backends into guarded outputs that start as `initial`
// (so accumulating ops are checked too) and compares the results.
template <typename Op>
void expect_same(Pair& pair, const Tensor& initial, Op&& op, double tolerance = kTolerance) {
  GuardedTensor fast(initial.shape()), slow(initial.shape());
  fast.tensor().copy_from(initial);
  slow.tensor().copy_from(initial);
  op(*pair.tested, fast.tensor());
  op(*pair.reference, slow.tensor());
  CHECK(fast.guards_intact());
  CHECK(slow.guards_intact());
  CHECK(normalized_error(fast.tensor(), slow.tensor()) <= tolerance);
}

}  // namespace

TEST_CASE("matmul equals the reference for every layout, batch form and epilogue") {
  Pair pair;
  Rng rng(1);
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> sizes = {
      {1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {3, 17, 1}, {13, 31, 7}, {64, 33, 65}};
  const std::vector<std::vector<int64_t>> batches = {{}, {3}, {2, 3}};
  for (auto [m, k, n] : sizes) {
    for (const auto& batch : batches) {
      for (int layout = 0; layout < 4; ++layout) {
        const bool ta = layout & 1, tb = layout & 2;
        for (int b_form = 0; b_form < (batch.empty() ? 1 : 2); ++b_form) {  // batched b, or one shared b
          CAPTURE(m);
          CAPTURE(k);
          CAPTURE(n);
          CAPTURE(batch.size());
          CAPTURE(layout);
          CAPTURE(b_form);
          const Tensor a = random_tensor(with_batch(batch, ta ? k : m, ta ? m : k), rng);
          const Tensor b = random_tensor(with_batch(b_form ? std::vector<int64_t>{} : batch, tb ? n : k, tb ? k : n), rng);
          const Tensor c0 = random_tensor(with_batch(batch, m, n), rng);
          const Tensor bias = random_tensor(Shape{n}, rng);
          MatmulOptions plain;
          plain.transpose_a = ta;
          plain.transpose_b = tb;
          expect_same(pair, c0, [&](Backend& be, const Tensor& c) { be.matmul(a, b, c, plain); });

          MatmulOptions with_bias = plain;
          with_bias.bias = &bias;
          with_bias.accumulate = Accumulate::yes;
          expect_same(pair, c0, [&](Backend& be, const Tensor& c) { be.matmul(a, b, c, with_bias); });

          // Attention's form: scaled.
          MatmulOptions scaled = plain;
          scaled.alpha = 0.125f;
          expect_same(pair, c0, [&](Backend& be, const Tensor& c) { be.matmul(a, b, c, scaled); });
        }
      }
    }
  }
}

TEST_CASE("matmul's backward equals the reference in every layout") {
  Pair pair;
  Rng rng(2);
  for (int layout = 0; layout < 4; ++layout) {
    for (int b_form = 0; b_form < 2; ++b_form) {
      const bool ta = layout & 1, tb = layout & 2;
      CAPTURE(layout);
      CAPTURE(b_form);
      const int64_t batch = 3, m = 5, k = 7, n = 4;
      const Tensor a = random_tensor(ta ? Shape{batch, k, m} : Shape{batch, m, k}, rng);
      const Tensor b = random_tensor(b_form ? (tb ? Shape{n, k} : Shape{k, n}) : (tb ? Shape{batch, n, k} : Shape{batch, k, n}), rng);
      const Tensor dc = random_tensor(Shape{batch, m, n}, rng);
      MatmulOptions fwd;
      fwd.transpose_a = ta;
      fwd.transpose_b = tb;
      fwd.alpha = 0.5f;
      expect_same(pair, random_tensor(a.shape(), rng), [&](Backend& be, const Tensor& da) {
        matmul_backward(be, a, b, dc, fwd, {.da = &da, .da_mode = Accumulate::yes});
      });
      expect_same(pair, random_tensor(b.shape(), rng), [&](Backend& be, const Tensor& db) {
        matmul_backward(be, a, b, dc, fwd, {.db = &db});
      });
    }
  }
}

TEST_CASE("matmuls in bf16 mode round both operands as the reference does, in every layout, forward and backward") {
  Pair pair;
  if (!pair.tested->supports(Precision::bf16)) {
    MESSAGE("no bf16 matmul kernels on this CPU: skipped");
    return;
  }
  pair.tested->set_matmul_precision(Precision::bf16);
  pair.reference->set_matmul_precision(Precision::bf16);
  Rng rng(12);
  for (int layout = 0; layout < 4; ++layout) {
    const bool ta = layout & 1, tb = layout & 2;
    CAPTURE(layout);
    const int64_t batch = 3, m = 17, k = 40, n = 9;
    const Tensor a = random_tensor(ta ? Shape{batch, k, m} : Shape{batch, m, k}, rng);
    const Tensor b = random_tensor(tb ? Shape{n, k} : Shape{k, n}, rng);
    const Tensor bias = random_tensor(Shape{n}, rng);
    const Tensor c0 = random_tensor(Shape{batch, m, n}, rng);
    const MatmulOptions options{.transpose_a = ta, .transpose_b = tb, .bias = &bias, .accumulate = Accumulate::yes};
    // Rounded operands are exact in both; only the order of the f32 sums differs.
    expect_same(pair, c0, [&](Backend& be, const Tensor& c) { be.matmul(a, b, c, options); });
    expect_same(pair, random_tensor(a.shape(), rng), [&](Backend& be, const Tensor& da) {
      matmul_backward(be, a, b, c0, {.transpose_a = ta, .transpose_b = tb}, {.da = &da, .db = nullptr});
    });
    // And it did round: bf16 keeps 8 significant bits, so the product moves by ~2⁻⁹ of its scale.
    Tensor exact = Tensor::empty(c0.shape()), rounded = Tensor::empty(c0.shape());
    make_backend(BackendKind::onednn)->matmul(a, b, exact, {.transpose_a = ta, .transpose_b = tb});
    pair.tested->matmul(a, b, rounded, {.transpose_a = ta, .transpose_b = tb});
    const double error = normalized_error(rounded, exact);
    CHECK(error > 1e-5);
    CHECK(error < 1e-2);
  }
  CHECK_THROWS_WITH_AS(pair.tested->set_matmul_precision(Precision::int8), doctest::Contains("not int8"), Error);
}

TEST_CASE("one-query attention equals the reference and the matmul-softmax-matmul path, over lengths, causal limits and none visible") {
  Pair pair;
  Rng rng(13);
  const int64_t batch = 3, heads = 2, dim = 19, length = 11;
  const Tensor q = random_tensor(Shape{batch, heads, 1, dim}, rng, -2.0f, 2.0f);
  const Tensor keys = random_tensor(Shape{batch, heads, length, dim}, rng, -2.0f, 2.0f);
  const Tensor values = random_tensor(Shape{batch, heads, length, dim}, rng);
  Tensor lengths = Tensor::empty(Shape{batch}, DType::i32);
  lengths.data<int32_t>()[0] = 11;
  lengths.data<int32_t>()[1] = 4;
  lengths.data<int32_t>()[2] = 0;  // nothing visible: uniform over all keys
  for (const VisibleKeys& visible : {VisibleKeys{}, VisibleKeys{.lengths = &lengths},
                                     VisibleKeys{.causal = true, .first_query = 6},
                                     VisibleKeys{.lengths = &lengths, .causal = true, .first_query = 2}}) {
    CAPTURE(visible.causal);
    CAPTURE(visible.lengths != nullptr);
    Tensor probs[2], out[2];
    int i = 0;
    for (Backend* be : {pair.tested.get(), pair.reference.get()}) {
      probs[i] = Tensor::empty(Shape{batch, heads, 1, length});
      out[i] = Tensor::empty(q.shape());
      be->attend_one_query(q, keys, values, 0.25f, visible, probs[i], out[i]);
      ++i;
    }
    CHECK(normalized_error(probs[0], probs[1]) <= kTolerance);
    CHECK(normalized_error(out[0], out[1]) <= kTolerance);
    // The three-op path computes the same
    Tensor scores = Tensor::empty(probs[0].shape()), p = Tensor::empty(probs[0].shape()), o = Tensor::empty(q.shape());
    pair.tested->matmul(q, keys, scores, {.transpose_b = true, .alpha = 0.25f});
    pair.tested->softmax_forward(scores, p, visible);
    pair.tested->matmul(p, values, o);
    CHECK(normalized_error(p, probs[0]) <= kTolerance);
    CHECK(normalized_error(o, out[0]) <= kTolerance);
  }
  // Beams sharing their sentence's keys: 2 query rows per key row read what the same keys
  // repeated per row give.
  const Tensor q2 = random_tensor(Shape{2 * batch, heads, 1, dim}, rng, -2.0f, 2.0f);
  Tensor repeat = Tensor::empty(Shape{2 * batch}, DType::i32);
  for (int32_t r = 0; r < 2 * batch; ++r) repeat.data<int32_t>()[r] = r / 2;
  Tensor keys2 = Tensor::empty(Shape{2 * batch, heads, length, dim}), values2 = Tensor::empty(keys2.shape());
  Tensor lengths2 = Tensor::empty(Shape{2 * batch}, DType::i32);
  pair.tested->gather_rows(keys, repeat, keys2);
  pair.tested->gather_rows(values, repeat, values2);
  pair.tested->gather_rows(lengths, repeat, lengths2);
  Tensor shared_probs[2], shared_out[2];
  int i = 0;
  for (Backend* be : {pair.tested.get(), pair.reference.get()}) {
    shared_probs[i] = Tensor::empty(Shape{2 * batch, heads, 1, length});
    shared_out[i] = Tensor::empty(q2.shape());
    be->attend_one_query(q2, keys, values, 0.5f, {.lengths = &lengths}, shared_probs[i], shared_out[i]);
    ++i;
  }
  Tensor probs2 = Tensor::empty(shared_probs[0].shape()), out2 = Tensor::empty(q2.shape());
  pair.tested->attend_one_query(q2, keys2, values2, 0.5f, {.lengths = &lengths2}, probs2, out2);
  CHECK(normalized_error(shared_probs[0], probs2) == 0.0);
  CHECK(normalized_error(shared_out[0], out2) == 0.0);
  CHECK(normalized_error(shared_out[0], shared_out[1]) <= kTolerance);

  Tensor wrong = Tensor::empty(Shape{batch, heads, 2, dim});
  CHECK_THROWS_WITH_AS(pair.tested->attend_one_query(wrong, keys, values, 1.0f, {}, Tensor::empty(Shape{batch, heads, 1, length}), wrong),
                       doctest::Contains("attend_one_query"), Error);
}

TEST_CASE("a window's visible keys: within W of the query, the global positions seen by and seeing all") {
  const VisibleKeys local{.window = 2};
  const auto seen = [](const VisibleKeys& k, int64_t position, int64_t end) {
    std::vector<int64_t> keys;
    const VisibleKeys::Ranges r = k.ranges(position, end);
    for (int64_t s = 0; s < end; ++s)
      if (r.contains(s)) keys.push_back(s);
    CHECK(static_cast<int64_t>(keys.size()) == r.count());
    return keys;
  };
  CHECK(seen(local, 5, 10) == std::vector<int64_t>{3, 4, 5, 6, 7});
  CHECK(seen(local, 0, 10) == std::vector<int64_t>{0, 1, 2});
  CHECK(seen(local, 9, 10) == std::vector<int64_t>{7, 8, 9});
  CHECK(seen(local, 5, 6) == std::vector<int64_t>{3, 4, 5});  // a padded sequence ends at 6
  CHECK(seen(local, 8, 4) == std::vector<int64_t>{});          // a padding query past the window of every key
  CHECK(seen(VisibleKeys{.causal = true, .window = 2}, 5, 10) == std::vector<int64_t>{3, 4, 5});
  const VisibleKeys global{.window = 1, .global = 2};
  CHECK(seen(global, 6, 10) == std::vector<int64_t>{0, 1, 5, 6, 7});
  CHECK(seen(global, 2, 10) == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(seen(global, 1, 10) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // a global query sees all
  CHECK(seen(global, 6, 1) == std::vector<int64_t>{0});
  CHECK(seen(VisibleKeys{}, 3, 7) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK(seen(VisibleKeys{.window = 100}, 3, 7) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});
}

TEST_CASE("softmax and one-query attention over a window with global positions equal the reference") {
  Pair pair;
  Rng rng(21);
  const int64_t b = 3, h = 2, t = 9, s = 9, dim = 5;
  const Tensor lengths = ids_tensor({9, 6, 1});
  const Tensor x = random_tensor(Shape{b, h, t, s}, rng, -4.0f, 4.0f);
  for (const VisibleKeys& keys : {VisibleKeys{.lengths = &lengths, .window = 2},
                                  VisibleKeys{.lengths = &lengths, .window = 1, .global = 2},
                                  VisibleKeys{.causal = true, .window = 3},
                                  VisibleKeys{.lengths = &lengths, .window = 20}}) {
    CAPTURE(keys.window);
    CAPTURE(keys.global);
    expect_same(pair, Tensor::zeros(x.shape()), [&](Backend& be, const Tensor& y) { be.softmax_forward(copy_of(x), y, keys); });
    // A wide window is full attention.
    if (keys.window >= s) {
      Tensor windowed = Tensor::empty(x.shape()), full = Tensor::empty(x.shape());
      pair.tested->softmax_forward(copy_of(x), windowed, keys);
      pair.tested->softmax_forward(copy_of(x), full, {.lengths = &lengths});
      CHECK(normalized_error(windowed, full) == 0.0);
    }
  }
  // A decoding step at position 6 of a cache with a window of 2 sees keys 4, 5 and 6 only.
  const Tensor q = random_tensor(Shape{b, h, 1, dim}, rng, -2.0f, 2.0f);
  const Tensor keys = random_tensor(Shape{b, h, s, dim}, rng, -2.0f, 2.0f), values = random_tensor(keys.shape(), rng);
  const VisibleKeys step{.causal = true, .first_query = 6, .window = 2};
  Tensor probs[2], out[2];
  int i = 0;
  for (Backend* be : {pair.tested.get(), pair.reference.get()}) {
    probs[i] = Tensor::empty(Shape{b, h, 1, s});
    out[i] = Tensor::empty(q.shape());
    be->attend_one_query(q, keys, values, 0.5f, step, probs[i], out[i]);
    ++i;
  }
  CHECK(normalized_error(probs[0], probs[1]) <= kTolerance);
  CHECK(normalized_error(out[0], out[1]) <= kTolerance);
  for (int64_t row = 0; row < b * h; ++row)
    for (int64_t key = 0; key < s; ++key) CHECK((probs[0].f32()[row * s + key] > 0.0f) == (key >= 4 && key <= 6));
}

TEST_CASE("softmax over visible keys equals the reference, forward and backward") {
  Pair pair;
  Rng rng(3);
  for (auto [b, h, t, s] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {1, 1, 1, 1}, {2, 3, 5, 5}, {3, 1, 7, 13}, {2, 4, 9, 9}, {3, 2, 1, 11}}) {
    CAPTURE(Shape({b, h, t, s}).str());
    const Shape shape{b, h, t, s};
    // The keys attention hands over: padded (sentence i has i pads), causal (training's decoder),
    // causal from a later position (a decoding step over a cache), and padded and causal at once.
    std::vector<int32_t> lengths;
    for (int64_t i = 0; i < b; ++i) lengths.push_back(static_cast<int32_t>(std::max<int64_t>(s - i, 1)));
    const Tensor length_ids = ids_tensor(lengths);
    const std::vector<VisibleKeys> cases{{},
                                         {.lengths = &length_ids},
                                         {.causal = true},
                                         {.causal = true, .first_query = s - t},
                                         {.lengths = &length_ids, .causal = true}};
    const Tensor x = random_tensor(shape, rng, -4.0f, 4.0f);
    for (const VisibleKeys& keys : cases)
      expect_same(pair, Tensor::zeros(shape), [&](Backend& be, const Tensor& y) {
        be.softmax_forward(copy_of(x), y, keys);
      });
    // Hidden keys get exactly 0, and the visible ones what a softmax of the visible prefix gives.
    Tensor padded = Tensor::empty(shape);
    pair.tested->softmax_forward(copy_of(x), padded, cases[1]);
    for (int64_t row = 0; row < b * h * t; ++row) {
      const int64_t visible = lengths[static_cast<size_t>(row / (h * t))];
      const Tensor prefix = Tensor::empty(Shape{1, visible}), expected = Tensor::empty(Shape{1, visible});
      std::copy_n(x.f32() + row * s, visible, prefix.f32());
      pair.reference->softmax_forward(prefix, expected);
      for (int64_t c = 0; c < s; ++c)
        CHECK(padded.f32()[row * s + c] == doctest::Approx(c < visible ? expected.f32()[c] : 0.0f).epsilon(1e-5));
    }
    Tensor y = Tensor::empty(shape);
    pair.reference->softmax_forward(x, y, cases[2]);
    const Tensor dy = random_tensor(shape, rng);
    for (Accumulate acc : {Accumulate::no, Accumulate::yes})
      expect_same(pair, random_tensor(shape, rng), [&](Backend& be, const Tensor& dx) { be.softmax_backward(y, dy, dx, acc); });
  }
}

TEST_CASE("log-softmax equals the reference") {
  Pair pair;
  Rng rng(4);
  for (const Shape& shape : {Shape{1, 1}, Shape{3, 1}, Shape{1, 9}, Shape{7, 33}, Shape{2, 5, 101}}) {
    const Tensor x = random_tensor(shape, rng, -6.0f, 6.0f);
    expect_same(pair, Tensor::zeros(shape), [&](Backend& be, const Tensor& y) { be.log_softmax_forward(x, y); });
  }
}

TEST_CASE("layer norm equals the reference, forward and backward") {
  Pair pair;
  Rng rng(5);
  const float eps = 1e-5f;
  for (const Shape& shape : {Shape{1, 1}, Shape{1, 7}, Shape{5, 3}, Shape{2, 3, 33}, Shape{17, 256}}) {
    CAPTURE(shape.str());
    const int64_t rows = shape.rows(), cols = shape.cols();
    const Tensor x = random_tensor(shape, rng, -2.0f, 3.0f);
    const Tensor gamma = random_tensor(Shape{cols}, rng, 0.5f, 1.5f);
    const Tensor beta = random_tensor(Shape{cols}, rng);
    Tensor mean_ref = Tensor::empty(Shape{rows}), var_ref = Tensor::empty(Shape{rows});
    Tensor mean_fast = Tensor::empty(Shape{rows}), var_fast = Tensor::empty(Shape{rows});
    expect_same(pair, Tensor::zeros(shape), [&](Backend& be, const Tensor& y) {
      const bool fast = &be == pair.tested.get();
      be.layer_norm_forward(x, gamma, beta, eps, y, fast ? mean_fast : mean_ref, fast ? var_fast : var_ref);
    });
    CHECK(normalized_error(mean_fast, mean_ref) <= kTolerance);
    CHECK(normalized_error(var_fast, var_ref) <= kTolerance);

    const Tensor dy = random_tensor(shape, rng);
    const Tensor dgamma0 = random_tensor(Shape{cols}, rng), dbeta0 = random_tensor(Shape{cols}, rng);
    for (Accumulate acc : {Accumulate::no, Accumulate::yes}) {
      Tensor dgamma_fast = copy_of(dgamma0), dbeta_fast = copy_of(dbeta0);
      Tensor dgamma_ref = copy_of(dgamma0), dbeta_ref = copy_of(dbeta0);
      expect_same(pair, random_tensor(shape, rng), [&](Backend& be, const Tensor& dx) {
        const bool fast = &be == pair.tested.get();
        be.layer_norm_backward(x, dy, gamma, mean_ref, var_ref, eps, dx, fast ? dgamma_fast : dgamma_ref,
                               fast ? dbeta_fast : dbeta_ref, acc);
      }, 1e-4);  // dx subtracts two row means of similar size
      CHECK(normalized_error(dgamma_fast, dgamma_ref) <= kTolerance);
      CHECK(normalized_error(dbeta_fast, dbeta_ref) <= kTolerance);
    }
  }
}

TEST_CASE("ReLU and GELU equal the reference, forward and backward") {
  Pair pair;
  Rng rng(6);
  for (Activation kind : {Activation::relu, Activation::gelu, Activation::swish}) {
    for (const Shape& shape : {Shape{1}, Shape{3, 5}, Shape{4, 1023}}) {
      const Tensor x = random_tensor(shape, rng, -4.0f, 4.0f);
      expect_same(pair, Tensor::zeros(shape), [&](Backend& be, const Tensor& y) { be.activation_forward(kind, x, y); });
      const Tensor dy = random_tensor(shape, rng);
      for (Accumulate acc : {Accumulate::no, Accumulate::yes})
        expect_same(pair, random_tensor(shape, rng), [&](Backend& be, const Tensor& dx) { be.activation_backward(kind, x, dy, dx, acc); });
    }
  }
}

TEST_CASE("dropout draws the same mask on every backend, and about p of it is dropped") {
  Pair pair;
  Rng rng(7);
  const Shape shape{301, 257};
  const Tensor x = random_tensor(shape, rng, 0.5f, 1.0f);  // never zero, so a zero output means dropped
  const float p = 0.1f;
  expect_same(pair, Tensor::zeros(shape), [&](Backend& be, const Tensor& y) { be.dropout_forward(x, p, 1234, y); });
  Tensor y = Tensor::empty(shape);
  pair.tested->dropout_forward(x, p, 1234, y);
  int64_t dropped = 0;
  for (int64_t i = 0; i < y.numel(); ++i) dropped += y.f32()[i] == 0.0f;
  CHECK(static_cast<double>(dropped) / y.numel() == doctest::Approx(p).epsilon(0.05));
  Tensor other = Tensor::empty(shape);
  pair.tested->dropout_forward(x, p, 1235, other);
  CHECK(normalized_error(y, other) > 0.1);  // another seed, another mask

  const Tensor dy = random_tensor(shape, rng);
  for (Accumulate acc : {Accumulate::no, Accumulate::yes})
    expect_same(pair, random_tensor(shape, rng), [&](Backend& be, const Tensor& dx) { be.dropout_backward(dy, p, 1234, dx, acc); });
  // Shorter than one block of the vectorised mask, and not a multiple of the four draws a hash holds.
  const Tensor few = random_tensor(Shape{1, 7}, rng, 0.5f, 1.0f);
  expect_same(pair, Tensor::zeros(few.shape()), [&](Backend& be, const Tensor& y7) { be.dropout_forward(few, 0.5f, 99, y7); });
}

TEST_CASE("dropout of a part of a tensor, told where it starts, draws that part of the whole tensor's mask") {
  Pair pair;
  Rng rng(41);
  const Tensor x = random_tensor(Shape{7, 301}, rng);
  for (auto& be : {pair.tested.get(), pair.reference.get()}) {
    Tensor whole = Tensor::empty(x.shape());
    be->dropout_forward(x, 0.3f, 77, whole);
    for (auto [first, end] : {std::pair<int64_t, int64_t>{0, 2}, {2, 3}, {3, 7}}) {  // 301 per row: every offset mod 4
      const Tensor part_x = copy_of(x.slice_rows(first, end));
      Tensor part = Tensor::empty(part_x.shape()), grad = Tensor::zeros(part_x.shape());
      be->dropout_forward(part_x, 0.3f, 77, part, static_cast<uint64_t>(first * 301));
      CHECK(normalized_error(part, copy_of(whole.slice_rows(first, end))) == 0.0);
      be->dropout_backward(part_x, 0.3f, 77, grad, Accumulate::yes, static_cast<uint64_t>(first * 301));
      CHECK(normalized_error(grad, part) == 0.0);
    }
  }
}

TEST_CASE("embedding lookup and its scatter-add gradient equal the reference, repeated ids included") {
  Pair pair;
  Rng rng(8);
  const Tensor table = random_tensor(Shape{11, 37}, rng);
  const Tensor ids = ids_tensor({3, 0, 10, 3, 3, 7});
  expect_same(pair, Tensor::zeros(Shape{6, 37}), [&](Backend& be, const Tensor& y) { be.embedding_forward(table, ids, 4.0f, y); });
  const Tensor dy = random_tensor(Shape{6, 37}, rng);
  expect_same(pair, random_tensor(Shape{11, 37}, rng), [&](Backend& be, const Tensor& dtable) { be.embedding_backward(ids, dy, 4.0f, dtable); });
  Tensor y = Tensor::empty(Shape{1, 37});
  CHECK_THROWS_WITH_AS(pair.tested->embedding_forward(table, ids_tensor({11}), 1.0f, y),
                       doctest::Contains("outside [0, 11)"), Error);
}

TEST_CASE("an int8 table's lookups give exactly what the lookups of its dequantised f32 table give") {
  Pair pair;
  Rng rng(18);
  const Tensor table = random_tensor(Shape{11, 37}, rng);
  Tensor codes = Tensor::empty(Shape{11, 37}, DType::i8), scales = Tensor::empty(Shape{11});
  int8_quantize_channels(table.f32(), 11, 37, 0, codes.data<int8_t>(), scales.f32());
  Tensor dequantised = Tensor::empty(Shape{11, 37});
  for (int64_t i = 0; i < table.numel(); ++i)
    dequantised.f32()[i] = static_cast<float>(codes.data<int8_t>()[i]) * scales.f32()[i / 37];
  const Tensor ids = ids_tensor({3, 0, 10, 3, 7});
  // Only int8 translation reads such tables, and only on the host (CUDA has no int8 products).
  for (Backend* be : {pair.tested.get(), pair.reference.get()}) {
    if (be->device() != Device::cpu) continue;
    Tensor from_codes = Tensor::empty(Shape{5, 37}), from_floats = Tensor::empty(Shape{5, 37});
    be->embedding_forward(codes, ids, 16.0f, from_codes, &scales);
    be->embedding_forward(dequantised, ids, 16.0f, from_floats);
    for (int64_t i = 0; i < from_codes.numel(); ++i) REQUIRE(from_codes.f32()[i] == from_floats.f32()[i]);
  }
  Tensor y = Tensor::empty(Shape{5, 37});
  CHECK_THROWS_WITH_AS(pair.reference->embedding_forward(table, ids, 1.0f, y, &scales),
                       doctest::Contains("the table must be int8 codes"), Error);
}

TEST_CASE("add with broadcast, axpy, row sums and sums of squares equal the reference") {
  Pair pair;
  Rng rng(9);
  const Tensor a = random_tensor(Shape{3, 5, 7}, rng);
  for (const Shape& b_shape : {Shape{3, 5, 7}, Shape{1, 5, 7}, Shape{3, 1, 7}, Shape{1, 1, 1}}) {
    const Tensor b = random_tensor(b_shape, rng);
    expect_same(pair, Tensor::zeros(a.shape()), [&](Backend& be, const Tensor& c) { be.add(a, b, c); });
  }
  expect_same(pair, random_tensor(a.shape(), rng), [&](Backend& be, const Tensor& y) { be.axpy(2.5f, a, y); });
  for (Accumulate acc : {Accumulate::no, Accumulate::yes})
    expect_same(pair, random_tensor(Shape{7}, rng), [&](Backend& be, const Tensor& y) { be.sum_rows(a, y, acc); });
  const Tensor big = random_tensor(Shape{1000, 77}, rng);
  CHECK(pair.tested->sum_squares(big) == doctest::Approx(pair.reference->sum_squares(big)).epsilon(1e-6));
}

TEST_CASE("label-smoothed cross-entropy equals the reference and ignores padding") {
  Pair pair;
  Rng rng(10);
  const int64_t rows = 6, vocab = 29;
  const Tensor logits = random_tensor(Shape{rows, vocab}, rng, -5.0f, 5.0f);
  const Tensor targets = ids_tensor({4, 0, 28, 0, 13, 0});  // 0 is padding here
  CrossEntropyOptions options;
  options.label_smoothing = 0.1f;
  options.ignore_id = 0;
  Tensor lp_fast = Tensor::empty(logits.shape()), lp_ref = Tensor::empty(logits.shape());
  const LossSums fast = pair.tested->cross_entropy_forward(logits, targets, options, lp_fast);
  const LossSums ref = pair.reference->cross_entropy_forward(logits, targets, options, lp_ref);
  CHECK(fast.tokens == 3);
  CHECK(ref.tokens == 3);
  CHECK(fast.loss == doctest::Approx(ref.loss).epsilon(1e-6));
  CHECK(fast.nll == doctest::Approx(ref.nll).epsilon(1e-6));
  CHECK(ref.loss > ref.nll * 0.5);
  for (Accumulate acc : {Accumulate::no, Accumulate::yes})
    expect_same(pair, random_tensor(logits.shape(), rng), [&](Backend& be, const Tensor& d) {
      be.cross_entropy_backward(lp_ref, targets, options, 0.25f, d, acc);
    });
}

TEST_CASE("a fully padded row gives no NaN anywhere") {
  for (auto& backend : all_backends()) {
    CAPTURE(backend->name());
    const Shape shape{2, 1, 3, 4};
    Rng rng(11);
    const Tensor scores = random_tensor(shape, rng);
    const Tensor lengths = ids_tensor({4, 0});  // sentence 1 is all padding
    Tensor probs = Tensor::empty(shape);
    backend->softmax_forward(scores, probs, {.lengths = &lengths});
    CHECK(all_finite(probs));
    CHECK(probs.f32()[12] == doctest::Approx(0.25));  // uniform, as kMaskedScore leaves it
    Tensor dx = Tensor::empty(shape);
    backend->softmax_backward(probs, random_tensor(shape, rng), dx, Accumulate::no);
    CHECK(all_finite(dx));

    // A batch in which every target is padding: zero loss, zero tokens, zero gradient.
    const Tensor logits = random_tensor(Shape{3, 5}, rng);
    const Tensor targets = ids_tensor({0, 0, 0});
    Tensor lp = Tensor::empty(logits.shape());
    const LossSums sums = backend->cross_entropy_forward(logits, targets, {.label_smoothing = 0.1f, .ignore_id = 0}, lp);
    CHECK(sums.tokens == 0);
    CHECK(sums.loss == 0.0);
    Tensor dlogits = random_tensor(logits.shape(), rng);
    backend->cross_entropy_backward(lp, targets, {.label_smoothing = 0.1f, .ignore_id = 0}, 1.0f, dlogits, Accumulate::no);
    for (int64_t i = 0; i < dlogits.numel(); ++i) CHECK(dlogits.f32()[i] == 0.0f);
  }
}

TEST_CASE("accumulating backward ops add exactly what the writing form writes") {
  for (auto& backend : all_backends()) {
    CAPTURE(backend->name());
    Rng rng(12);
    const Shape shape{4, 9};
    const Tensor y = random_tensor(shape, rng, 0.0f, 0.3f), dy = random_tensor(shape, rng);
    Tensor written = Tensor::empty(shape);
    backend->softmax_backward(y, dy, written, Accumulate::no);
    const Tensor start = random_tensor(shape, rng);
    Tensor added = copy_of(start);
    backend->softmax_backward(y, dy, added, Accumulate::yes);
    backend->axpy(-1.0f, start, added);
    CHECK(normalized_error(added, written) <= 1e-6);
  }
}

TEST_CASE("bad arguments get an error that names the op and the shapes") {
  auto backend = make_backend(BackendKind::onednn);
  const Tensor a = Tensor::zeros(Shape{2, 3}), b = Tensor::zeros(Shape{4, 5});
  Tensor c = Tensor::zeros(Shape{2, 5});
  CHECK_THROWS_WITH_AS(backend->matmul(a, b, c), doctest::Contains("matmul: shapes do not chain"), Error);
  Tensor wrong = Tensor::zeros(Shape{3, 3});
  CHECK_THROWS_WITH_AS(backend->softmax_forward(a, wrong), doctest::Contains("softmax: y expected [2, 3]"), Error);
  const Tensor ids = Tensor::zeros(Shape{2}, DType::i32);
  CHECK_THROWS_WITH_AS(backend->axpy(1.0f, ids, c), doctest::Contains("must be f32"), Error);
  Tensor bias = Tensor::zeros(Shape{5});
  const Tensor b2 = Tensor::zeros(Shape{3, 5});
  CHECK_THROWS_WITH_AS(backend->matmul(a, b2, c, {.alpha = 2.0f, .bias = &bias}),
                       doctest::Contains("cannot be combined with a bias"), Error);
  CHECK_THROWS_WITH_AS(backend->dropout_forward(a, 1.0f, 1, wrong), doctest::Contains("dropout"), Error);
}

TEST_CASE("splitting and merging heads equals the reference and round-trips") {
  Pair pair;
  Rng rng(13);
  for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{2, 5, 3, 4}, Shape{3, 7, 4, 64}}) {
    const Tensor x = random_tensor(shape, rng);
    const Shape swapped{shape[0], shape[2], shape[1], shape[3]};
    expect_same(pair, Tensor::zeros(swapped), [&](Backend& be, const Tensor& y) { be.swap_axes_12(x, y); }, 0.0);
    Tensor y = Tensor::empty(swapped), back = Tensor::empty(shape);
    pair.tested->swap_axes_12(x, y);
    pair.tested->swap_axes_12(y, back);
    CHECK(normalized_error(back, x) == 0.0);
  }
}

TEST_CASE("additive attention scores equal the reference, forward and backward") {
  Pair pair;
  Rng rng(14);
  for (auto [b, h, t, s, d] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>>{
           {1, 1, 1, 1, 1}, {2, 3, 5, 7, 4}, {1, 2, 9, 3, 17}}) {
    const Tensor q = random_tensor(Shape{b, h, t, d}, rng), k = random_tensor(Shape{b, h, s, d}, rng);
    const Tensor v = random_tensor(Shape{h, d}, rng);
    expect_same(pair, Tensor::zeros(Shape{b, h, t, s}), [&](Backend& be, const Tensor& scores) {
      be.additive_scores_forward(q, k, v, scores);
    });
    const Tensor ds = random_tensor(Shape{b, h, t, s}, rng);
    for (Accumulate acc : {Accumulate::no, Accumulate::yes}) {
      const Tensor dv0 = random_tensor(v.shape(), rng);
      Tensor dv_fast = copy_of(dv0), dv_ref = copy_of(dv0);
      const Tensor dk0 = random_tensor(k.shape(), rng);
      Tensor dk_fast = copy_of(dk0), dk_ref = copy_of(dk0);
      expect_same(pair, random_tensor(q.shape(), rng), [&](Backend& be, const Tensor& dq) {
        const bool fast = &be == pair.tested.get();
        be.additive_scores_backward(q, k, v, ds, dq, fast ? dk_fast : dk_ref, fast ? dv_fast : dv_ref, acc);
      });
      CHECK(normalized_error(dk_fast, dk_ref) <= kTolerance);
      CHECK(normalized_error(dv_fast, dv_ref) <= kTolerance);
    }
  }
}

TEST_CASE("additive scores stay exact where tanh saturates and near zero") {
  Pair pair;
  Rng rng(19);
  for (float range : {1e-3f, 3.0f, 12.0f}) {
    CAPTURE(range);
    const Tensor q = random_tensor(Shape{2, 2, 5, 16}, rng, -range, range), k = random_tensor(Shape{2, 2, 7, 16}, rng, -range, range);
    const Tensor v = random_tensor(Shape{2, 16}, rng);
    expect_same(pair, Tensor::zeros(Shape{2, 2, 5, 7}), [&](Backend& be, const Tensor& scores) {
      be.additive_scores_forward(q, k, v, scores);
    });
  }
}

TEST_CASE("writing a time step into a key/value cache touches only that position") {
  Pair pair;
  Rng rng(15);
  const Tensor step = random_tensor(Shape{2, 3, 5}, rng);
  expect_same(pair, random_tensor(Shape{2, 3, 7, 5}, rng), [&](Backend& be, const Tensor& cache) {
    be.write_time_step(step, 4, cache);
  }, 0.0);
  Tensor cache = Tensor::zeros(Shape{2, 3, 7, 5});
  pair.tested->write_time_step(step, 6, cache);
  CHECK(cache.f32()[6 * 5] == step.f32()[0]);
  CHECK(cache.f32()[5 * 5] == 0.0f);
  CHECK_THROWS_WITH_AS(pair.tested->write_time_step(step, 7, cache), doctest::Contains("capacity 7"), Error);
}

TEST_CASE("Adam's update equals the reference over several steps") {
  Pair pair;
  Rng rng(16);
  const Shape shape{1001};
  const Tensor params0 = random_tensor(shape, rng);
  Tensor p_fast = copy_of(params0), p_ref = copy_of(params0);
  Tensor m_fast = Tensor::zeros(shape), m_ref = Tensor::zeros(shape), v_fast = Tensor::zeros(shape), v_ref = Tensor::zeros(shape);
  for (int64_t step = 1; step <= 5; ++step) {
    const Tensor grads = random_tensor(shape, rng);
    const AdamStep s{.learning_rate = 1e-2f, .grad_scale = 0.5f, .step = step};
    pair.tested->adam_update(p_fast, grads, m_fast, v_fast, s);
    pair.reference->adam_update(p_ref, grads, m_ref, v_ref, s);
  }
  CHECK(normalized_error(p_fast, p_ref) <= 1e-5);
  CHECK(normalized_error(m_fast, m_ref) <= 1e-5);
  CHECK(normalized_error(v_fast, v_ref) <= 1e-5);
  CHECK(normalized_error(p_fast, params0) > 1e-3);  // it moved
}

TEST_CASE("gathering rows picks, repeats and reorders the first axis") {
  Pair pair;
  Rng rng(17);
  const Tensor src = random_tensor(Shape{4, 3, 5}, rng);
  const Tensor rows = ids_tensor({3, 0, 0, 2, 3, 1});
  expect_same(pair, Tensor::zeros(Shape{6, 3, 5}), [&](Backend& be, const Tensor& dst) { be.gather_rows(src, rows, dst); }, 0.0);
  Tensor dst = Tensor::empty(Shape{6, 3, 5});
  pair.tested->gather_rows(src, rows, dst);
  CHECK(dst.f32()[0] == src.f32()[3 * 15]);
  CHECK_THROWS_WITH_AS(pair.tested->gather_rows(src, ids_tensor({4}), Tensor::empty(Shape{1, 3, 5})),
                       doctest::Contains("outside [0, 4)"), Error);
}

TEST_CASE("gathering cache rows copies only the filled positions of each head") {
  Pair pair;
  Rng rng(18);
  const Tensor src = random_tensor(Shape{3, 2, 6, 4}, rng);
  const Tensor rows = ids_tensor({2, 2, 0});
  expect_same(pair, random_tensor(Shape{3, 2, 6, 4}, rng), [&](Backend& be, const Tensor& dst) {
    be.gather_cache_rows(src, rows, 4, dst);
  }, 0.0);
  Tensor dst = Tensor::zeros(Shape{3, 2, 6, 4});
  pair.tested->gather_cache_rows(src, rows, 4, dst);
  CHECK(dst.f32()[(0 * 2 + 1) * 24 + 3 * 4] == src.f32()[(2 * 2 + 1) * 24 + 3 * 4]);  // row 0, head 1, position 3
  CHECK(dst.f32()[(0 * 2 + 1) * 24 + 4 * 4] == 0.0f);                               // position 4: untouched

  // Into a cache of another capacity (a cache growing as decoding goes on).
  expect_same(pair, random_tensor(Shape{3, 2, 9, 4}, rng), [&](Backend& be, const Tensor& grown) {
    be.gather_cache_rows(src, rows, 4, grown);
  }, 0.0);
  Tensor grown = Tensor::zeros(Shape{3, 2, 9, 4});
  pair.tested->gather_cache_rows(src, rows, 4, grown);
  CHECK(grown.f32()[(0 * 2 + 1) * 36 + 3 * 4] == src.f32()[(2 * 2 + 1) * 24 + 3 * 4]);
  CHECK_THROWS_WITH_AS(pair.tested->gather_cache_rows(src, rows, 4, Tensor::empty(Shape{3, 2, 3, 4})),
                       doctest::Contains("outside the capacities 6 and 3"), Error);
}

TEST_CASE("sequence lengths stop at the first pad, or take the whole row") {
  for (auto& backend : all_backends()) {
    CAPTURE(backend->name());
    Tensor ids = Tensor::empty(Shape{3, 4}, DType::i32);
    const std::vector<int32_t> rows{5, 6, 7, 8, /**/ 5, 0, 0, 0, /**/ 0, 0, 0, 0};  // pad id 0
    std::copy(rows.begin(), rows.end(), ids.data<int32_t>());
    const Tensor lengths = Tensor::empty(Shape{3}, DType::i32);
    backend->sequence_lengths(ids, 0, lengths);
    CHECK(std::vector<int32_t>(lengths.data<int32_t>(), lengths.data<int32_t>() + 3) == std::vector<int32_t>{4, 1, 0});
    CHECK_THROWS_WITH_AS(backend->sequence_lengths(ids, 0, Tensor::empty(Shape{2}, DType::i32)),
                         doctest::Contains("lengths expected [3]"), Error);
  }
}

TEST_CASE("memory operations: allocate, fill, copy, upload and download, and host views without a copy") {
  for (auto& backend : all_backends()) {
    CAPTURE(backend->name());
    Backend& be = *backend;
    const Tensor f = be.allocate(Shape{2, 3});
    CHECK(f.device() == be.device());
    be.fill(f, 1.5);
    for (int64_t i = 0; i < f.numel(); ++i) CHECK(f.f32()[i] == 1.5f);
    const Tensor ids = be.allocate(Shape{4}, DType::i32);
    be.fill(ids, 7);
    CHECK(ids.data<int32_t>()[3] == 7);
    const Tensor bytes = be.allocate(Shape{5}, DType::u8);
    be.fill(bytes, 0);
    CHECK(bytes.data<uint8_t>()[4] == 0);
    CHECK_THROWS_WITH_AS(be.fill(be.allocate(Shape{2}, DType::bf16), 1.0), doctest::Contains("f32, i32 or u8"), Error);

    Rng rng(21);
    const Tensor src = random_tensor(Shape{2, 3}, rng), dst = be.allocate(Shape{2, 3});
    be.copy(src, dst);
    CHECK(normalized_error(dst, src) == 0.0);
    CHECK_THROWS_WITH_AS(be.copy(src, be.allocate(Shape{3, 2})), doctest::Contains("one shape and dtype"), Error);
    const Tensor up = be.allocate(Shape{2, 3}), down = Tensor::empty(Shape{2, 3});
    be.upload(src, up);
    be.download(up, down);
    CHECK(normalized_error(down, src) == 0.0);

    // On a CPU backend an operand is its own host view: no staging copy on the hot path.
    Tensor staging;
    CHECK(be.to_host(src, staging).raw() == src.raw());
    CHECK(be.to_device(src, staging).raw() == src.raw());
    CHECK(staging.raw() == nullptr);
  }
}
