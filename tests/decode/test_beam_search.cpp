#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "heed/decode/beam_search.h"
#include "heed/data/batcher.h"
#include "support/greedy_decode.h"
#include "heed/devices/devices.h"
#include "model/model_support.h"

using namespace heed;
using namespace heed::test;

namespace {

std::vector<std::vector<int32_t>> some_sources() {
  return {{5, 6, 7}, {8}, {9, 10, 11, 12, 4, 5}, {6, 6}, {12, 11, 10, 9}};
}

struct TinyModel {
  std::unique_ptr<Backend> be = make_backend(BackendKind::onednn);
  std::unique_ptr<Transformer> model;
  explicit TinyModel(uint64_t seed, ModelConfig c = tiny_config()) {
    model = std::make_unique<Transformer>(c);
    model->parameters().initialize(seed);
  }
};

// Σ log p(y₁ … yₙ eos | source) by one teacher-forced forward pass: no cache involved.
double sequence_log_prob(TinyModel& m, const std::vector<int32_t>& source, const std::vector<int32_t>& pieces) {
  const ModelConfig& c = m.model->config();
  std::vector<int32_t> in{c.bos_id}, out = pieces;
  in.insert(in.end(), pieces.begin(), pieces.end());
  out.push_back(c.eos_id);
  const Tensor logits = m.model->forward(*m.be, source_ids({source}, c.batch_layout()), id_matrix({in}), RunMode{});
  Tensor log_probs = Tensor::empty(Shape{logits.shape().rows(), c.target_vocab});
  m.be->log_softmax_forward(logits.reshape(log_probs.shape()), log_probs);
  double sum = 0.0;
  for (size_t t = 0; t < out.size(); ++t) sum += log_probs.f32()[t * c.target_vocab + out[t]];
  return sum;
}

BeamOptions beam_of(int64_t beam, int64_t n_best = 1) {
  BeamOptions o;
  o.beam = beam;
  o.n_best = n_best;
  return o;
}

}  // namespace

TEST_CASE("beam search with a beam of 1 is greedy search, with scores or ranking by logits without them") {
  TinyModel m(21);
  const auto sources = some_sources();
  const auto greedy = greedy_decode(*m.be, *m.model, sources, {});
  BeamSearch search(*m.be, *m.model, beam_of(1));
  const auto beam = search.translate(sources);
  BeamOptions unscored = beam_of(1);
  unscored.scores = false;  // no log-softmax: the logits rank the tokens
  BeamSearch by_logits(*m.be, *m.model, unscored);
  const auto fast = by_logits.translate(sources);
  for (size_t i = 0; i < sources.size(); ++i) {
    REQUIRE(beam[i].size() == 1);
    CHECK(beam[i][0].pieces == greedy[i]);
    CHECK(beam[i][0].log_prob < 0.0);
    REQUIRE(fast[i].size() == 1);
    CHECK(fast[i][0].pieces == greedy[i]);
    CHECK(fast[i][0].log_prob == 0.0);  // not computed, and says so
    CHECK(fast[i][0].score == 0.0);
  }
}

TEST_CASE("a beam wide enough to keep every prefix finds the exhaustive search's best output") {
  TinyModel m(22);
  const ModelConfig& c = m.model->config();
  const LengthLimit two_pieces{.factor = 0.0, .offset = 2, .most = 0};
  const float alpha = 0.6f;
  std::vector<int32_t> tokens;  // what may be generated: all but pad and bos
  for (int32_t v = 0; v < c.target_vocab; ++v)
    if (v != c.pad_id && v != c.bos_id) tokens.push_back(v);
  const int64_t real = static_cast<int64_t>(tokens.size()) - 1;  // without eos
  // Wider than a step's candidates (real one-piece prefixes × all tokens), so that every end of
  // sentence ranks among the best k and may finish a hypothesis.
  BeamOptions wide = beam_of(real * (real + 1) + 1);
  wide.length_penalty = alpha;
  wide.length = two_pieces;
  BeamSearch search(*m.be, *m.model, wide);
  for (const auto& source : some_sources()) {
    // Every output of one or two pieces (an empty translation is never produced).
    std::vector<std::vector<int32_t>> outputs;
    for (int32_t a : tokens) {
      if (a == c.eos_id) continue;
      outputs.push_back({a});
      for (int32_t b : tokens)
        if (b != c.eos_id) outputs.push_back({a, b});
    }
    double best_score = -INFINITY;
    std::vector<int32_t> best;
    for (const auto& y : outputs) {
      const double score = sequence_log_prob(m, source, y) / std::pow(static_cast<double>(y.size() + 1), alpha);
      if (score > best_score) {
        best_score = score;
        best = y;
      }
    }
    const auto found = search.translate({source});
    CHECK(found[0][0].pieces == best);
    CHECK(found[0][0].score == doctest::Approx(best_score).epsilon(1e-4));
  }
}

TEST_CASE("beam search's scores equal a teacher-forced recomputation of its hypotheses") {
  TinyModel m(23);
  BeamSearch search(*m.be, *m.model, beam_of(4, 3));
  const auto sources = some_sources();
  const auto results = search.translate(sources);
  for (size_t i = 0; i < sources.size(); ++i) {
    REQUIRE(!results[i].empty());
    for (size_t h = 0; h + 1 < results[i].size(); ++h) CHECK(results[i][h].score >= results[i][h + 1].score);
    for (const Hypothesis& hyp : results[i])
      CHECK(hyp.log_prob == doctest::Approx(sequence_log_prob(m, sources[i], hyp.pieces)).epsilon(1e-4));
  }
}

TEST_CASE("every attention variant's beams score as teacher forcing says, the first step decoded one row a sentence") {
  // The first step runs a row per sentence and then widens each into k rows: the memory, its
  // per-row copies under additive attention, and a local window's ring must all follow.
  for (const AttentionScore score : {AttentionScore::scaled_dot, AttentionScore::dot, AttentionScore::additive})
    for (const int64_t window : {0, 2}) {
      ModelConfig c = tiny_config();
      c.attention = score;
      c.attention_window = window;
      CAPTURE(static_cast<int>(score));
      CAPTURE(window);
      TinyModel m(31, c);
      BeamSearch search(*m.be, *m.model, beam_of(3, 3));
      const auto sources = some_sources();
      const auto results = search.translate(sources);
      for (size_t i = 0; i < sources.size(); ++i) {
        REQUIRE(results[i].size() == 3);
        for (const Hypothesis& hyp : results[i])
          CHECK(hyp.log_prob == doctest::Approx(sequence_log_prob(m, sources[i], hyp.pieces)).epsilon(1e-4));
      }
    }
}

TEST_CASE("a batch translates exactly as its sentences do one by one") {
  TinyModel m(24);
  const auto sources = some_sources();
  BeamSearch search(*m.be, *m.model, beam_of(4));
  const auto together = search.translate(sources);
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto alone = search.translate({sources[i]});
    CHECK(alone[0][0].pieces == together[i][0].pieces);
    CHECK(alone[0][0].score == doctest::Approx(together[i][0].score).epsilon(1e-5));
  }
}

TEST_CASE("no sentence is translated as nothing, by beam or greedy search") {
  for (uint64_t seed : {25, 26, 27}) {
    TinyModel m(seed);
    const auto sources = some_sources();
    BeamSearch search(*m.be, *m.model, beam_of(4, 4));
    for (const auto& hypotheses : search.translate(sources))
      for (const Hypothesis& h : hypotheses) CHECK(!h.pieces.empty());
    for (const auto& output : greedy_decode(*m.be, *m.model, sources, {})) CHECK(!output.empty());
  }
}

TEST_CASE("an ensemble of a model with itself is the model, and one of two scores by their mean log-probability") {
  TinyModel a(28), b(29);
  const auto sources = some_sources();
  BeamSearch alone(*a.be, *a.model, beam_of(4, 2));
  BeamSearch twice(*a.be, std::vector<Transformer*>{a.model.get(), a.model.get()}, beam_of(4, 2));
  const auto one = alone.translate(sources), two = twice.translate(sources);
  for (size_t i = 0; i < sources.size(); ++i) {
    REQUIRE(one[i].size() == two[i].size());
    for (size_t h = 0; h < one[i].size(); ++h) {
      CHECK(one[i][h].pieces == two[i][h].pieces);
      CHECK(one[i][h].score == two[i][h].score);  // halving is exact: bit for bit
    }
  }
  BeamSearch pair(*a.be, std::vector<Transformer*>{a.model.get(), b.model.get()}, beam_of(4, 2));
  const auto both = pair.translate(sources);
  for (size_t i = 0; i < sources.size(); ++i)
    for (const Hypothesis& h : both[i]) {
      const double mean = (sequence_log_prob(a, sources[i], h.pieces) + sequence_log_prob(b, sources[i], h.pieces)) / 2.0;
      CHECK(h.log_prob == doctest::Approx(mean).epsilon(1e-4));
    }
}

TEST_CASE("--max-output-length caps every output, whatever the source's length") {
  CHECK(LengthLimit{.factor = 2.0, .offset = 10, .most = 0}.limit(10) == 30);
  CHECK(LengthLimit{.factor = 2.0, .offset = 10, .most = 5}.limit(10) == 5);
  CHECK(LengthLimit{.factor = 2.0, .offset = 10, .most = 50}.limit(10) == 30);
  TinyModel m(23);
  for (int64_t beam : {1, 3}) {
    BeamOptions options = beam_of(beam);
    options.length = {.factor = 2.0, .offset = 10, .most = 2};
    BeamSearch search(*m.be, *m.model, options);
    for (const auto& hypotheses : search.translate(some_sources())) CHECK(hypotheses.at(0).pieces.size() <= 2);
  }
}
