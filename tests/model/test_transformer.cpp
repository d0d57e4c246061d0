#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "heed/core/error.h"
#include "heed/devices/devices.h"
#include "heed/model/incremental_decoder.h"
#include "model_support.h"

using namespace heed;
using namespace heed::test;

namespace {

// Finite differences of the whole model's loss against its backward pass, on a sample of
// elements from every parameter tensor (all of them for small tensors). Dropout is on, with
// a fixed seed, so its masks are part of the function being differentiated.
void expect_model_gradients(const ModelConfig& config, const Batch& batch = tiny_batch()) {
  auto be = backend_under_test();
  Transformer model(config);
  model.parameters().initialize(11);
  const RunMode mode{.training = true, .seed = 77};
  const float smoothing = 0.1f;

  model.parameters().zero_grads(*be);
  LossGradients gradients;
  model.forward_loss(*be, batch, smoothing, mode, &gradients);
  model.backward(*be, gradients, 1.0f);

  const double h = 1e-2;
  Rng pick(5);
  double max_diff = 0.0, max_grad = 0.0;
  int checked = 0;
  for (const Parameter& p : model.parameters().all()) {
    const int64_t n = p.value.numel();
    const int64_t samples = std::min<int64_t>(n, 6);
    for (int64_t s = 0; s < samples; ++s) {
      const int64_t i = n <= 6 ? s : static_cast<int64_t>(pick.next_u64() % static_cast<uint64_t>(n));
      float* v = p.value.f32() + i;
      const float saved = *v;
      *v = saved + static_cast<float>(h);
      const double plus = model.forward_loss(*be, batch, smoothing, mode).loss;
      *v = saved - static_cast<float>(h);
      const double minus = model.forward_loss(*be, batch, smoothing, mode).loss;
      *v = saved;
      const double numeric = (plus - minus) / (2 * h);
      const double analytic = p.grad.f32()[i];
      if (std::abs(numeric - analytic) > 2e-2 * std::max(1.0, std::abs(numeric)))
        FAIL_CHECK(p.name << "[" << i << "]: analytic " << analytic << ", numeric " << numeric);
      max_diff = std::max(max_diff, std::abs(numeric - analytic));
      max_grad = std::max(max_grad, std::abs(numeric));
      ++checked;
    }
  }
  CHECK(checked > 50);
  CHECK(max_grad > 1e-2);
  CHECK(max_diff / max_grad < 1e-2);
}

// Feeds position t of the batch's target to the decoder's incremental step and checks that its
// logits are those of the full forward pass `full` [B, T, V] at t.
void expect_step_equals_full(Backend& be, IncrementalDecoder& decoder, const Batch& batch, const Tensor& full, int64_t t) {
  const int64_t B = batch.target_in.shape()[0], T = batch.target_in.shape()[1], V = decoder.model().config().target_vocab;
  Tensor tokens = Tensor::empty(Shape{B}, DType::i32);
  for (int64_t b = 0; b < B; ++b) tokens.data<int32_t>()[b] = batch.target_in.data<int32_t>()[b * T + t];
  const Tensor step = decoder.step(be, tokens);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t v = 0; v < V; ++v)
      REQUIRE(step.f32()[b * V + v] == doctest::Approx(full.f32()[(b * T + t) * V + v]).epsilon(1e-4).scale(1.0));
}

}  // namespace

TEST_CASE("the whole model's gradient matches finite differences for each attention score") {
  for (AttentionScore score : {AttentionScore::scaled_dot, AttentionScore::dot, AttentionScore::additive}) {
    CAPTURE(to_string(score));
    ModelConfig c = tiny_config();
    c.attention = score;
    expect_model_gradients(c);
  }
}

TEST_CASE("the whole model's gradient matches finite differences with local attention and global positions") {
  for (int64_t global : {0, 1}) {
    CAPTURE(global);
    ModelConfig c = tiny_config();
    c.attention_window = 1;
    c.attention_global = global;
    expect_model_gradients(c);
  }
}

namespace {

// The summed loss and the gradients of a model initialised with seed 8, after forward_loss and
// backward over each batch in turn (parts of one batch, run as their first sequence onward).
struct LossAndGradients {
  double loss = 0.0;
  std::vector<Tensor> grads;
  bool probabilities_held = false;  // whether the first cross-attention kept its probabilities
};

LossAndGradients loss_and_gradients(Backend& be, const ModelConfig& c, const std::vector<std::pair<Batch, int64_t>>& parts,
                                    RunMode mode) {
  Transformer model(c);
  model.parameters().initialize(8);
  model.parameters().zero_grads(be);
  LossAndGradients out;
  for (const auto& [batch, first_sequence] : parts) {
    mode.first_sequence = first_sequence;
    LossGradients gradients;
    out.loss += model.forward_loss(be, batch, 0.1f, mode, &gradients).loss;
    model.backward(be, gradients, 1.0f);
  }
  for (const Parameter& p : model.parameters().all()) out.grads.push_back(copy_of(p.grad));
  out.probabilities_held = model.cross_attention(0).defined();
  return out;
}

// Loss within `tolerance` relatively, every gradient within it in normalized_error.
void expect_same(const LossAndGradients& a, const LossAndGradients& b, double tolerance) {
  CHECK(std::abs(a.loss - b.loss) <= tolerance * std::abs(b.loss));
  REQUIRE(a.grads.size() == b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i) CHECK(normalized_error(a.grads[i], b.grads[i]) <= tolerance);
}

}  // namespace

TEST_CASE("a window as wide as the sequences is full attention: the same loss and gradients") {
  auto be = make_backend(BackendKind::onednn);
  ModelConfig full = tiny_config(), wide = tiny_config();
  wide.attention_window = wide.max_positions;
  const RunMode mode{.training = true, .seed = 3};
  expect_same(loss_and_gradients(*be, wide, {{tiny_batch(), 0}}, mode), loss_and_gradients(*be, full, {{tiny_batch(), 0}}, mode), 0.0);
}

TEST_CASE("the tiled attention kernel gives the plain kernel's loss and gradients: padding, windows, global positions, dropout") {
  auto be = make_backend(BackendKind::onednn);
  for (auto [window, global] : std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {1, 1}, {2, 0}}) {
    CAPTURE(window);
    ModelConfig c = tiny_config();
    c.attention_window = window;
    c.attention_global = global;
    const LossAndGradients tiled =
        loss_and_gradients(*be, c, {{tiny_batch(), 0}}, {.training = true, .seed = 3, .attention = AttentionKernel::tiled});
    const LossAndGradients plain =
        loss_and_gradients(*be, c, {{tiny_batch(), 0}}, {.training = true, .seed = 3, .attention = AttentionKernel::plain});
    expect_same(tiled, plain, 1e-5);
    CHECK_FALSE(tiled.probabilities_held);  // the tiled pass never holds them
    CHECK(plain.probabilities_held);
  }
}

TEST_CASE("a batch split in parts, each run as its first sequence onward, gives the whole batch's loss and gradients, dropout included") {
  auto be = make_backend(BackendKind::onednn);
  Batch whole;
  whole.source = id_matrix({{5, 6, 7, 8, 9}, {10, 11, 12, 0, 0}, {4, 5, 0, 0, 0}});
  whole.target_in = id_matrix({{2, 4, 5, 6}, {2, 7, 8, 0}, {2, 9, 0, 0}});
  whole.target_out = id_matrix({{4, 5, 6, 3}, {7, 8, 3, 0}, {9, 3, 0, 0}});
  // Sequences [0, 1) and [1, 3), padded as in the whole batch. tiny_config() has dropout 0.1 on
  // embeddings, sublayers, the FFN and attention.
  const std::vector<std::pair<Batch, int64_t>> parts = {{whole.sequences(0, 1), 0}, {whole.sequences(1, 3), 1}};
  for (AttentionKernel kernel : {AttentionKernel::plain, AttentionKernel::tiled}) {
    CAPTURE(static_cast<int>(kernel));
    const RunMode mode{.training = true, .seed = 5, .attention = kernel};
    expect_same(loss_and_gradients(*be, tiny_config(), parts, mode), loss_and_gradients(*be, tiny_config(), {{whole, 0}}, mode),
                1e-5);
  }
}

TEST_CASE("backward announces each layer's gradient range once it is final, and the ranges never overlap") {
  auto be = make_backend(BackendKind::onednn);
  Transformer model(tiny_config());
  model.parameters().initialize(3);
  model.parameters().zero_grads(*be);
  LossGradients gradients;
  model.forward_loss(*be, tiny_batch(), 0.1f, RunMode{.training = true, .seed = 1}, &gradients);
  const Tensor& grads = model.parameters().grads();
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::vector<Tensor> when_announced;
  model.backward(*be, gradients, 1.0f, [&](int64_t begin, int64_t end) {
    ranges.emplace_back(begin, end);
    when_announced.push_back(copy_of(grads.reshape(Shape{grads.numel(), 1}).slice_rows(begin, end)));
  });
  // 2 decoder layers, 2 encoder layers and both final norms (pre-norm), top first.
  REQUIRE(ranges.size() == 6);
  CHECK(ranges == model.gradient_ranges());  // the order every process sums them in
  CHECK(ranges[0] == model.parameters().arena_range("decoder.norm."));
  CHECK(ranges[1] == model.parameters().arena_range("decoder.1."));
  for (size_t i = 0; i < ranges.size(); ++i) {
    CAPTURE(i);
    CHECK(ranges[i].second > ranges[i].first);
    // Nothing wrote into the range after it was announced.
    CHECK(normalized_error(copy_of(grads.reshape(Shape{grads.numel(), 1}).slice_rows(ranges[i].first, ranges[i].second)),
                           when_announced[i]) == 0.0);
    for (size_t j = 0; j < i; ++j) CHECK((ranges[i].second <= ranges[j].first || ranges[j].second <= ranges[i].first));
  }
  CHECK(model.parameters().arena_range("no such layer.") == std::pair<int64_t, int64_t>{0, 0});
}

TEST_CASE("attention tiles by itself past 256 keys, except for readers of the probabilities") {
  auto be = make_backend(BackendKind::onednn);
  ModelConfig c = tiny_config();
  c.max_positions = 300;
  Transformer model(c);
  model.parameters().initialize(2);
  Batch batch;
  batch.source = Tensor::empty(Shape{1, 280}, DType::i32);
  for (int64_t i = 0; i < 280; ++i) batch.source.data<int32_t>()[i] = static_cast<int32_t>(4 + i % 9);
  batch.target_in = id_matrix({{2, 4, 5}});
  const Tensor automatic = copy_of(model.forward(*be, batch.source, batch.target_in, RunMode{}));
  CHECK_FALSE(model.encoder_self_attention(0).defined());  // 280 keys: tiled
  CHECK(model.decoder_self_attention(0).defined());        // 3 keys: plain
  const Tensor plain = copy_of(model.forward(*be, batch.source, batch.target_in, RunMode{.attention = AttentionKernel::plain}));
  CHECK(normalized_error(automatic, plain) <= 1e-5);
  model.forward_attention(*be, batch.source, batch.target_in);
  CHECK(model.cross_attention(0).shape() == Shape({1, 2, 3, 280}));
}

TEST_CASE("decoding more sentences than the encoder runs at once encodes them in parts, each as in the full pass") {
  // 37 sentences: the encoder's passes take 16, 16 and 5 of them; lengths vary, so the padded
  // positions differ from row to row.
  auto be = backend_under_test();
  Transformer model(tiny_config());
  model.parameters().initialize(6);
  const int64_t B = 37, S = 6, T = 3;
  Batch batch;
  batch.source = Tensor::empty(Shape{B, S}, DType::i32);
  batch.target_in = Tensor::empty(Shape{B, T}, DType::i32);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t length = 1 + b % S;
    for (int64_t s = 0; s < S; ++s)
      batch.source.data<int32_t>()[b * S + s] = s < length ? static_cast<int32_t>(4 + (b * 7 + s * 3) % 9) : 0;
    for (int64_t t = 0; t < T; ++t)
      batch.target_in.data<int32_t>()[b * T + t] = t == 0 ? 2 : static_cast<int32_t>(4 + (b + t * 5) % 9);
  }
  const Tensor full = copy_of(model.forward(*be, batch.source, batch.target_in, RunMode{}));
  IncrementalDecoder decoder(model);
  decoder.start(*be, batch.source, 7);
  CHECK(decoder.memory().shape() == Shape({B, S, tiny_config().model_dim}));
  for (int64_t t = 0; t < T; ++t) expect_step_equals_full(*be, decoder, batch, full, t);
}

TEST_CASE("with a window, the decoder's incremental step over a ring of window + 1 positions equals the full forward pass") {
  auto be = backend_under_test();
  const Batch batch = tiny_batch();
  Tensor outputs[2];
  for (int64_t window : {1, 0}) {
    ModelConfig c = tiny_config();
    c.attention_window = window;
    Transformer model(c);
    model.parameters().initialize(4);
    const Tensor full = copy_of(model.forward(*be, batch.source, batch.target_in, RunMode{}));
    outputs[window] = full;
    IncrementalDecoder decoder(model);
    decoder.start(*be, batch.source, 7);
    for (int64_t t = 0; t < batch.target_in.shape()[1]; ++t) expect_step_equals_full(*be, decoder, batch, full, t);
    // A window of 1 needs the last 2 positions only: the self-attention caches are a ring of 2.
    if (window == 1)
      for (const DecoderLayerCache& layer : decoder.layer_caches()) CHECK(layer.self.keys.shape()[2] == 2);
  }
  CHECK(normalized_error(outputs[0], outputs[1]) > 1e-3);
}

TEST_CASE("the whole model's gradient matches finite differences for learned positions and post-norm") {
  ModelConfig learned = tiny_config();
  learned.positions = PositionEncoding::learned;
  expect_model_gradients(learned);
  ModelConfig post = tiny_config();
  post.norm = NormPlacement::post;
  expect_model_gradients(post);
}

TEST_CASE("the whole model's gradient matches finite differences for each embedding tying") {
  for (EmbeddingTying tying : {EmbeddingTying::none, EmbeddingTying::target_output, EmbeddingTying::all}) {
    CAPTURE(to_string(tying));
    ModelConfig c = tiny_config();
    c.tying = tying;
    c.joint_vocabulary = tying == EmbeddingTying::all;
    if (tying != EmbeddingTying::all) c.source_vocab = 17;  // separate vocabularies may differ in size
    expect_model_gradients(c);
  }
}

TEST_CASE("the whole model's gradient matches finite differences with a guided alignment term") {
  ModelConfig c = tiny_config();
  c.alignment_layer = 0;  // not the last layer: its gradient must flow back through the layer above
  c.alignment_head = 1;
  Batch batch = tiny_batch();
  // Target piece 0 of pair 0 links source pieces 0 and 1, piece 1 links 2; pair 1's piece 1 links 0.
  batch.alignment = Tensor::zeros(Shape{2, 4, 5});
  float* g = batch.alignment.f32();
  g[0 * 5 + 0] = g[0 * 5 + 1] = 0.5f;
  g[1 * 5 + 2] = 1.0f;
  g[(4 + 1) * 5 + 0] = 1.0f;
  batch.alignment_weight = 0.7f;
  expect_model_gradients(c, batch);

  auto be = make_backend(BackendKind::onednn);
  Transformer model(c);
  model.parameters().initialize(3);
  const LossSums with = model.forward_loss(*be, batch, 0.0f, RunMode{});
  // The term, recomputed from the head's probabilities: 0.7 · (−½ log p₀₀ − ½ log p₀₁ − log p₁₂ − log p'₁₀).
  const Tensor& p = model.cross_attention(0);  // [2, 2, 4, 5]
  const auto at = [&](int b, int t, int s) { return static_cast<double>(p.f32()[((b * 2 + 1) * 4 + t) * 5 + s]) + 1e-6; };
  const double expected = -0.7 * (0.5 * std::log(at(0, 0, 0)) + 0.5 * std::log(at(0, 0, 1)) + std::log(at(0, 1, 2)) + std::log(at(1, 1, 0)));
  CHECK(with.alignment == doctest::Approx(expected).epsilon(1e-5));
  CHECK(with.aligned_rows == 3);
  batch.alignment = Tensor{};
  const LossSums without = model.forward_loss(*be, batch, 0.0f, RunMode{});
  CHECK(with.loss == doctest::Approx(without.loss + expected).epsilon(1e-5));
  CHECK(without.alignment == 0.0);
}

TEST_CASE("the oneDNN (or HEED_TEST_DEVICE) model computes the reference model's loss and gradients") {
  ModelConfig c = tiny_config();
  c.attention = AttentionScore::scaled_dot;
  const Batch batch = tiny_batch();
  const RunMode mode{.training = true, .seed = 3};
  auto fast = backend_under_test();
  auto reference = make_backend(BackendKind::reference);
  Transformer a(c), b(c);
  a.parameters().initialize(2);
  b.parameters().initialize(2);
  a.parameters().zero_grads(*fast);
  b.parameters().zero_grads(*reference);
  LossGradients ga, gb;
  const LossSums la = a.forward_loss(*fast, batch, 0.1f, mode, &ga);
  const LossSums lb = b.forward_loss(*reference, batch, 0.1f, mode, &gb);
  a.backward(*fast, ga, 1.0f);
  b.backward(*reference, gb, 1.0f);
  CHECK(la.tokens == 7);
  CHECK(la.loss == doctest::Approx(lb.loss).epsilon(1e-5));
  CHECK(normalized_error(a.parameters().grads(), b.parameters().grads()) < 1e-4);
}

TEST_CASE("the decoder's incremental step equals the full forward pass on the same prefix") {
  for (AttentionScore score : {AttentionScore::scaled_dot, AttentionScore::additive}) {
    for (NormPlacement norm : {NormPlacement::pre, NormPlacement::post}) {
      CAPTURE(to_string(score));
      CAPTURE(to_string(norm));
      ModelConfig c = tiny_config();
      c.attention = score;
      c.norm = norm;
      auto be = backend_under_test();
      Transformer model(c);
      model.parameters().initialize(4);
      const Batch batch = tiny_batch();
      const int64_t B = 2, T = 4, S = 5;
      const Tensor full = copy_of(model.forward(*be, batch.source, batch.target_in, RunMode{}));
      const Tensor full_cross = copy_of(model.cross_attention(1));  // [B, H, T, S]

      IncrementalDecoder decoder(model);
      decoder.start(*be, batch.source, T);
      for (int64_t t = 0; t < T; ++t) {
        expect_step_equals_full(*be, decoder, batch, full, t);
        const Tensor& cross = model.cross_attention(1);  // [B, H, 1, S]
        for (int64_t b = 0; b < B; ++b)
          for (int64_t h = 0; h < c.heads; ++h)
            for (int64_t s = 0; s < S; ++s)
              REQUIRE(cross.f32()[(b * c.heads + h) * S + s] ==
                      doctest::Approx(full_cross.f32()[((b * c.heads + h) * T + t) * S + s]).epsilon(1e-4).scale(1.0));
      }
      // The decoder was started for T positions: a step past them is refused.
      CHECK_THROWS_AS(decoder.step(*be, Tensor::zeros(Shape{B}, DType::i32)), Error);
    }
  }
}

TEST_CASE("cross-attention probabilities are readable per layer and ignore padded source positions") {
  auto be = make_backend(BackendKind::onednn);
  Transformer model(tiny_config());
  model.parameters().initialize(8);
  const Batch batch = tiny_batch();
  model.forward(*be, batch.source, batch.target_in, RunMode{});
  for (int layer = 0; layer < 2; ++layer) {
    const Tensor& p = model.cross_attention(layer);
    REQUIRE(p.shape() == Shape{2, 2, 4, 5});
    for (int64_t row = 0; row < p.shape().rows(); ++row) {
      double sum = 0.0;
      for (int64_t s = 0; s < 5; ++s) sum += p.f32()[row * 5 + s];
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
    }
    // Sentence 1 has 3 real source pieces: positions 3 and 4 get no attention.
    for (int64_t row = 8; row < 16; ++row) {
      CHECK(p.f32()[row * 5 + 3] < 1e-6f);
      CHECK(p.f32()[row * 5 + 4] < 1e-6f);
    }
  }
}

TEST_CASE("model configs round-trip through text and reject what they cannot build") {
  ModelConfig c = tiny_config();
  c.attention = AttentionScore::additive;
  c.positions = PositionEncoding::learned;
  c.dropout = 0.3f;
  const ModelConfig back = ModelConfig::from_text(c.to_text());
  CHECK(back.to_text() == c.to_text());
  CHECK(c.to_text().find("attention-window") == std::string::npos);  // written only for local attention
  CHECK(c.to_text().find("scale-embeddings") == std::string::npos);  // written only when false
  ModelConfig marian = tiny_config();
  marian.positions = PositionEncoding::sinusoidal_concat;
  marian.scale_embeddings = false;
  marian.activation = Activation::swish;
  const ModelConfig marian_back = ModelConfig::from_text(marian.to_text());
  CHECK(marian_back.positions == PositionEncoding::sinusoidal_concat);
  CHECK_FALSE(marian_back.scale_embeddings);
  CHECK(marian_back.activation == Activation::swish);
  ModelConfig local = tiny_config();
  local.attention_window = 64;
  local.attention_global = 2;
  const ModelConfig local_back = ModelConfig::from_text(local.to_text());
  CHECK(local_back.attention_window == 64);
  CHECK(local_back.attention_global == 2);
  local.attention_window = 0;
  CHECK_THROWS_WITH_AS(local.validate(), doctest::Contains("attention-global 2 needs a window"), Error);

  ModelConfig separate = tiny_config();
  separate.source_vocab = 20;
  separate.joint_vocabulary = false;
  CHECK_THROWS_WITH_AS(Transformer{separate}, doctest::Contains("tying all embeddings needs one joint vocabulary"), Error);
  ModelConfig heads = tiny_config();
  heads.heads = 3;
  CHECK_THROWS_WITH_AS(heads.validate(), doctest::Contains("multiple of heads"), Error);
  CHECK_THROWS_WITH_AS(ModelConfig::from_text(c.to_text() + "colour = blue\n"), doctest::Contains("unknown key 'colour'"), Error);
  CHECK_THROWS_WITH_AS(parse_attention_score("cosine"), doctest::Contains("scaled-dot, dot, additive"), Error);
}

TEST_CASE("a sequence longer than the model's positions is an error, not a read past the table") {
  auto be = make_backend(BackendKind::onednn);
  ModelConfig c = tiny_config();
  c.max_positions = 4;
  Transformer model(c);
  model.parameters().initialize(1);
  const Batch batch = tiny_batch();  // 5 source pieces
  CHECK_THROWS_WITH_AS(model.forward(*be, batch.source, batch.target_in, RunMode{}),
                       doctest::Contains("longer than the model's limit of 4 positions"), Error);
}

TEST_CASE("sinusoidal positions: interleaved as heed lays them out, concatenated as Marian does") {
  constexpr int64_t kPositions = 50, kDim = 10;
  const Tensor interleaved = sinusoidal_table(kPositions, kDim, false), concatenated = sinusoidal_table(kPositions, kDim, true);
  for (int64_t pos = 0; pos < kPositions; ++pos)
    for (int64_t i = 0; i < kDim / 2; ++i) {
      // transformers' MarianSinusoidalPositionalEmbedding: angle pos / 10000^(2i/D), sines first.
      const double angle = static_cast<double>(pos) / std::pow(10000.0, 2.0 * static_cast<double>(i) / kDim);
      CHECK(concatenated.f32()[pos * kDim + i] == doctest::Approx(std::sin(angle)).epsilon(1e-6));
      CHECK(concatenated.f32()[pos * kDim + kDim / 2 + i] == doctest::Approx(std::cos(angle)).epsilon(1e-6));
      CHECK(interleaved.f32()[pos * kDim + 2 * i] == concatenated.f32()[pos * kDim + i]);
      CHECK(interleaved.f32()[pos * kDim + 2 * i + 1] == concatenated.f32()[pos * kDim + kDim / 2 + i]);
    }
}

TEST_CASE("embeddings are scaled by the square root of the width unless the config says not") {
  auto be = make_backend(BackendKind::onednn);
  for (bool scaled : {true, false}) {
    ModelConfig c = tiny_config();
    c.scale_embeddings = scaled;
    c.dropout = 0.0f;
    ParameterSet params;
    Parameter* table = params.add("table", Shape{c.target_vocab, c.model_dim}, Init::embedding);
    Embedding embedding(params, "embedding", table, c);
    params.allocate();
    params.initialize(5);
    const Tensor out = embedding.forward(*be, ids_tensor({3, 7}).reshape(Shape{1, 2}), 4, RunMode{});
    const Tensor positions = sinusoidal_table(c.max_positions, c.model_dim, false);
    const float scale = scaled ? std::sqrt(static_cast<float>(c.model_dim)) : 1.0f;
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t d = 0; d < c.model_dim; ++d) {
        const int64_t id = t == 0 ? 3 : 7;
        CHECK(out.f32()[t * c.model_dim + d] ==
              doctest::Approx(scale * table->value.f32()[id * c.model_dim + d] + positions.f32()[(4 + t) * c.model_dim + d]));
      }
  }
}
