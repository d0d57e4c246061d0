#include <doctest/doctest.h>

#include <cstring>

#include "heed/backend/reference/reference_backend.h"
#include "heed/core/error.h"
#include "heed/decode/long_lines.h"
#include "heed/decode/translator.h"
#include "heed/devices/devices.h"
#include "heed/model/layers.h"
#include "heed/model/model_file.h"
#include "model/model_support.h"
#include "support.h"

using namespace heed;
using namespace heed::test;

namespace {

struct VocabModel {
  std::unique_ptr<Backend> be = make_backend(BackendKind::onednn);
  std::unique_ptr<Transformer> model;
  explicit VocabModel(int64_t max_positions = 64) {
    ModelConfig c = tiny_config();
    c.source_vocab = c.target_vocab = test_vocabulary().size();
    c.max_positions = max_positions;
    model = std::make_unique<Transformer>(c);
    model->parameters().initialize(5);
  }
};

const std::vector<std::string> kMixedLines = {
    "the cat sat on a mat",
    "",
    "   \t  ",
    "the dog ran to the red house the blue cat sat on the mat a dog ran to a house the end",
    "東京 Москва",
    "broken \xC3\x28 utf-8",
    "a red dog",
    "\xFF",
    "blue",
};

}  // namespace

TEST_CASE("translate keeps one line per input line, whatever the line holds") {
  VocabModel m;
  TranslateOptions options;
  options.max_input_pieces = 8;  // makes line 4 a long line
  options.batch_sentences = 3;
  Translator translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
  const auto out = translator.translate(kMixedLines, 1);
  REQUIRE(out.size() == kMixedLines.size());
  for (size_t i : {1, 2, 5, 7}) CHECK(out[i].texts.at(0).empty());
  CHECK(translator.stats().invalid == 2);
  CHECK(translator.stats().empty == 2);
  CHECK(translator.stats().long_lines == 1);

  // Later lines never shift: each line alone translates as it did among the others.
  for (size_t i = 0; i < kMixedLines.size(); ++i) {
    Translator alone(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
    CHECK(alone.translate({kMixedLines[i]}, static_cast<int64_t>(i) + 1)[0].texts.at(0) == out[i].texts.at(0));
  }
}

TEST_CASE("a long line is translated in parts or truncated, as asked") {
  VocabModel m;
  const std::string long_line = kMixedLines[3];
  TranslateOptions split;
  split.max_input_pieces = 8;
  split.beam.beam = 1;
  TranslateOptions truncate = split;
  truncate.long_lines = LongLines::truncate;
  Translator splitter(*m.be, *m.model, test_vocabulary(), test_vocabulary(), split);
  Translator truncater(*m.be, *m.model, test_vocabulary(), test_vocabulary(), truncate);
  const std::string parts = splitter.translate({long_line}, 1)[0].texts[0];
  const std::string first = truncater.translate({long_line}, 1)[0].texts[0];
  // The truncated translation is the first part's translation; the split one continues after it.
  CHECK(parts.rfind(first, 0) == 0);
  CHECK(parts.size() > first.size());
}

TEST_CASE("a sentence too long for the model is cut into whole-word runs of about equal length, at most the part length") {
  std::string sentence;
  for (int i = 0; i < 12; ++i) sentence += "the red cat sat on the mat ";  // no sentence end: one sentence
  const std::vector<int32_t> all = test_vocabulary().encode(sentence);
  for (const int64_t part : {0, 7, 15, 40}) {
    CAPTURE(part);
    const auto parts = split_long_line(sentence, test_vocabulary(), 50, SentenceLanguage::any, part);
    const size_t most = static_cast<size_t>(part > 0 ? part : 50);
    std::vector<int32_t> joined;
    size_t shortest = all.size(), longest = 0;
    for (const auto& p : parts) {
      joined.insert(joined.end(), p.begin(), p.end());
      shortest = std::min(shortest, p.size());
      longest = std::max(longest, p.size());
      CHECK(test_vocabulary().piece(p.front()).starts_with("\u2581"));  // each run starts a word
    }
    CHECK(joined == all);  // nothing lost, nothing repeated
    CHECK(longest <= most);
    CHECK(parts.size() == (all.size() + most - 1) / most);  // the fewest runs
    CHECK(shortest * 2 >= longest);  // no stub
  }
}

TEST_CASE("n-best lists come best first with one entry per hypothesis") {
  VocabModel m;
  TranslateOptions options;
  options.beam.beam = 4;
  options.beam.n_best = 3;
  Translator translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
  const auto out = translator.translate({"the cat", ""}, 1);
  CHECK(out[0].texts.size() == 3);
  CHECK(out[0].scores[0] >= out[0].scores[1]);
  CHECK(out[1].texts.size() == 1);
}

TEST_CASE("several workers translate exactly as one, reading one copy of the weights") {
  VocabModel m;
  TranslateOptions options;
  options.batch_sentences = 2;  // several batches, so that every worker gets some
  options.beam.n_best = 2;
  options.threads_per_worker = 1;
  std::vector<std::string> lines = kMixedLines;
  for (const char* extra : {"the red cat ran", "a blue house", "the mat sat on the dog", "cat", "a dog ran to a mat"})
    lines.emplace_back(extra);
  Translator one(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
  const auto expected = one.translate(lines, 1);

  auto second = make_backend(BackendKind::onednn), third = make_backend(BackendKind::onednn);
  Translator three(std::vector<Backend*>{m.be.get(), second.get(), third.get()}, *m.model, test_vocabulary(),
                   test_vocabulary(), options);
  CHECK(three.workers() == 3);
  for (int round = 0; round < 2; ++round) {  // a second round reuses the workers' buffers
    const auto got = three.translate(lines, 1);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i].texts == expected[i].texts);
      CHECK(got[i].scores == expected[i].scores);
    }
  }
  CHECK(three.stats().lines == 2 * static_cast<int64_t>(lines.size()));
}

TEST_CASE("a model over another's weights reads them without a copy and cannot train") {
  VocabModel m;
  Transformer shared(*m.model, SharedWeights{});
  CHECK(shared.parameters().values().raw() == m.model->parameters().values().raw());
  CHECK(shared.parameters().all().front().value.raw() == m.model->parameters().all().front().value.raw());
  CHECK_FALSE(m.model->parameters().has_grads());  // inference allocates no gradients
  CHECK_THROWS_WITH_AS(shared.parameters().zero_grads(*m.be), doctest::Contains("cannot train"), Error);
}

TEST_CASE("a translator lays its workspace out before decoding: decoding needs no more, and a limit too low fails first") {
  VocabModel m;
  TranslateOptions options;
  options.batch_sentences = 3;
  options.beam.beam = 3;
  std::vector<std::string> lines = kMixedLines;
  for (const char* extra : {"the red cat ran", "a blue house", "the mat sat on the dog", "cat", "a dog ran to a mat"})
    lines.emplace_back(extra);
  // Buffers only grow and outlive the call: what the call added in all is what was laid out
  // before the first step, so decoding itself (up to the length limit: this model's random
  // weights rarely end a sentence) added nothing.
  Translator translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
  const size_t before = tensor_memory().in_use;  // after the weights were prepared
  translator.translate(lines, 1);
  const int64_t planned = translator.stats().workspace_bytes;
  CHECK(planned > 0);
  CHECK(static_cast<int64_t>(tensor_memory().in_use - before) == planned);
  const size_t used = tensor_memory().in_use;
  translator.translate(lines, 1);  // the same shapes again: nothing more
  CHECK(tensor_memory().in_use == used);
  CHECK(translator.stats().workspace_bytes == planned);

  // With room for half of it, a fresh model's translation fails before decoding, naming sizes.
  VocabModel fresh;
  Translator tight(*fresh.be, *fresh.model, test_vocabulary(), test_vocabulary(), options);
  set_tensor_memory_limit(tensor_memory().in_use + static_cast<size_t>(planned / 2));
  CHECK_THROWS_WITH_AS(tight.translate(lines, 1), doctest::Contains("out of memory"), Error);
  set_tensor_memory_limit(0);
}

TEST_CASE("the workspace laid out before decoding holds the backend's scratch too: low-precision inputs, attention tiles") {
  // The plan runs in a layout pass, which computes nothing (layout_pass.h). A bf16 or int8 product
  // rounds or quantises its input into the backend's own scratch, and attention over more than
  // kTiledFromKeys keys scores tiles there: the plan grows those as well, or the first real batch
  // would. A line of ~300 pieces makes the encoder's attention tiled.
  std::string long_line;
  for (int i = 0; i < 40; ++i) long_line += "the red cat sat on a mat ";
  const std::vector<std::string> lines = {long_line, "a dog ran", "the blue house"};
  for (Precision p : {Precision::f32, Precision::bf16, Precision::int8}) {
    CAPTURE(precision_name(p));
    VocabModel m(512);
    if (!m.be->supports(p)) {
      MESSAGE("no ", precision_name(p), " kernels on this CPU: skipped");
      continue;
    }
    TranslateOptions options;
    options.precision = p;
    options.beam.beam = 2;
    options.batch_sentences = 2;
    options.beam.length = {.factor = 0.1, .offset = 4, .most = 0};  // short translations: the encoder is what is tested
    Translator translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
    const size_t before = tensor_memory().in_use;
    translator.translate(lines, 1);
    CHECK(static_cast<int64_t>(test_vocabulary().encode(long_line).size()) > kTiledFromKeys);
    CHECK(translator.stats().workspace_bytes > 0);
    CHECK(static_cast<int64_t>(tensor_memory().in_use - before) == translator.stats().workspace_bytes);
  }
}

TEST_CASE("a line of several sentences is translated sentence by sentence into one line, n-best and scores per line") {
  VocabModel m;
  TranslateOptions options;
  options.beam.beam = 3;
  options.beam.n_best = 2;
  options.beam.scores = true;
  options.beam.length.factor = 1.0;  // random weights rarely end a sentence: keep it short
  Translator translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
  const std::vector<std::string> sentences = {"the cat sat on a mat.", "A dog ran to the red house!", "The end?"};
  const auto apart = translator.translate(sentences, 1);
  const auto joined = translator.translate({"  the cat sat on a mat. A dog ran to the red house!  The end?"}, 1);
  REQUIRE(joined.size() == 1);
  CHECK(joined[0].source_sentences == sentences);
  REQUIRE(joined[0].texts.size() == 2);
  for (size_t h = 0; h < 2; ++h) {
    CAPTURE(h);
    CHECK(joined[0].texts[h] == apart[0].texts[h] + " " + apart[1].texts[h] + " " + apart[2].texts[h]);
    CHECK(joined[0].sentence_texts[h] == std::vector<std::string>{apart[0].texts[h], apart[1].texts[h], apart[2].texts[h]});
    CHECK(joined[0].scores[h] == doctest::Approx(apart[0].scores[h] + apart[1].scores[h] + apart[2].scores[h]));
  }
  CHECK(translator.stats().split_lines == 1);

  // Without splitting the line is one source sentence: another translation.
  options.split_sentences = false;
  Translator whole(*m.be, *m.model, test_vocabulary(), test_vocabulary(), options);
  const auto unsplit = whole.translate({"the cat sat on a mat. A dog ran to the red house! The end?"}, 1);
  CHECK(unsplit[0].source_sentences.empty());
  CHECK(unsplit[0].texts[0] != joined[0].texts[0]);
  CHECK(whole.stats().split_lines == 0);
}

TEST_CASE("bf16 and int8 translation gives the text the reference backend's statement of that arithmetic gives") {
  std::vector<std::string> lines = kMixedLines;
  for (const char* extra : {"the red cat ran", "a blue house", "the mat sat on the dog", "a dog ran to a mat"})
    lines.emplace_back(extra);
  for (Precision p : {Precision::bf16, Precision::int8}) {
    CAPTURE(precision_name(p));
    VocabModel fast;
    if (!fast.be->supports(p)) {
      MESSAGE("no ", precision_name(p), " kernels on this CPU: skipped");
      continue;
    }
    VocabModel slow;  // the same weights (same seed), computed by the reference backend
    slow.be = std::make_unique<ReferenceBackend>(fast.be->int8_input_limit());
    TranslateOptions options;
    options.batch_sentences = 3;
    options.beam.beam = 2;
    options.beam.length.factor = 1.0;  // random weights rarely end a sentence: keep it short
    options.precision = p;
    Translator a(*fast.be, *fast.model, test_vocabulary(), test_vocabulary(), options);
    Translator b(*slow.be, *slow.model, test_vocabulary(), test_vocabulary(), options);
    const auto got = a.translate(lines, 1), expected = b.translate(lines, 1);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CAPTURE(i);
      CHECK(got[i].texts == expected[i].texts);
      // Not to the last bit: an activation that f32's summation order moves across a rounding
      // boundary of bf16 (or of an int8 step) becomes one step of that format apart.
      CHECK(got[i].scores.front() == doctest::Approx(expected[i].scores.front()).epsilon(p == Precision::bf16 ? 5e-3 : 1e-3));
    }
    // The weights were prepared: they are frozen.
    CHECK(fast.model->parameters().prepared());
    CHECK_THROWS_WITH_AS(fast.model->parameters().zero_grads(*fast.be), doctest::Contains("cannot train"), Error);
  }
}

TEST_CASE("a model's logits with bf16 or int8 weights stay within their rounding of the f32 logits") {
  VocabModel m;
  Rng rng(9);
  Tensor source = Tensor::empty(Shape{2, 7}, DType::i32), target = Tensor::empty(Shape{2, 5}, DType::i32);
  for (int64_t i = 0; i < source.numel(); ++i) source.data<int32_t>()[i] = 4 + static_cast<int32_t>(rng.uniform(0, 20));
  for (int64_t i = 0; i < target.numel(); ++i) target.data<int32_t>()[i] = 4 + static_cast<int32_t>(rng.uniform(0, 20));
  const Tensor logits = m.model->forward(*m.be, source, target, RunMode{});
  Tensor exact = Tensor::empty(logits.shape());
  exact.copy_from(logits);
  for (Precision p : {Precision::bf16, Precision::int8}) {
    if (!m.be->supports(p)) continue;
    CAPTURE(precision_name(p));
    VocabModel q;
    q.model->parameters().prepare(*q.be, p);
    const Tensor rounded = q.model->forward(*q.be, source, target, RunMode{});
    const double error = normalized_error(rounded, exact);
    CHECK(error > 1e-5);  // it did round
    CHECK(error < (p == Precision::bf16 ? 2e-2 : 5e-2));
  }
}

TEST_CASE("translation gives back the f32 weights its prepared products replaced, and such a model cannot be saved") {
  VocabModel m;
  Translator translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), TranslateOptions{});
  const auto out = translator.translate(kMixedLines, 1);
  CHECK(out.size() == kMixedLines.size());
  int released = 0;
  for (const Parameter& p : m.model->parameters().all()) {
    if (p.matmul_use == MatmulUse::weight) {
      CHECK_FALSE(p.value.defined());
      ++released;
    }
    if (p.matmul_use == MatmulUse::transposed_weight) CHECK(p.value.defined());  // the tied table: embeddings read it
  }
  CHECK(released > 0);
  CHECK_THROWS_WITH_AS(serialize_model(*m.model, ModelExtras{}), doctest::Contains("cannot be saved"), Error);
}

TEST_CASE("an int8 file loaded as its codes translates as its dequantised load does, without f32 matmul weights") {
  VocabModel original;
  const std::string file = serialize_model(*original.model, ModelExtras{}, StoredPrecision::int8);
  std::vector<std::string> lines = kMixedLines;
  lines.emplace_back("the red cat ran to a blue house");
  for (const bool reference : {false, true}) {
    for (Precision p : {Precision::int8, Precision::f32}) {
      CAPTURE(reference);
      CAPTURE(precision_name(p));
      const auto backend = [&]() -> std::unique_ptr<Backend> {
        if (reference) return std::make_unique<ReferenceBackend>(original.be->int8_input_limit());
        return make_backend(BackendKind::onednn);
      };
      auto be_values = backend(), be_codes = backend();
      if (!be_values->supports(p)) continue;
      LoadedModel values = parse_model(file, "int8.heed");
      LoadedModel codes = parse_model(file, "int8.heed", {}, Int8Tensors::as_codes);
      const auto& read = values.model->parameters().all();
      const auto& kept = codes.model->parameters().all();
      int kept_as_codes = 0;
      for (size_t i = 0; i < kept.size(); ++i) {
        CAPTURE(kept[i].name);
        if (kept[i].matmul_use == MatmulUse::none) {
          REQUIRE(kept[i].value.defined());
          CHECK(std::memcmp(kept[i].value.raw(), read[i].value.raw(), read[i].value.bytes()) == 0);
          continue;
        }
        CHECK_FALSE(kept[i].value.defined());  // no f32 copy of a matmul weight
        CHECK(kept[i].stored_codes.dtype() == DType::i8);
        ++kept_as_codes;
      }
      CHECK(kept_as_codes > 10);
      TranslateOptions options;
      options.beam.beam = 2;
      options.beam.length.factor = 1.0;
      options.precision = p;
      Translator from_values(*be_values, *values.model, test_vocabulary(), test_vocabulary(), options);
      Translator from_codes(*be_codes, *codes.model, test_vocabulary(), test_vocabulary(), options);
      const auto expected = from_values.translate(lines, 1), got = from_codes.translate(lines, 1);
      REQUIRE(got.size() == expected.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i].texts == expected[i].texts);
        // The file's own steps against the steps found again from its dequantised values: the
        // same codes, the steps at most a rounding apart.
        CHECK(got[i].scores.front() == doctest::Approx(expected[i].scores.front()).epsilon(1e-6));
      }
      for (const Parameter& param : codes.model->parameters().all()) {
        CHECK_FALSE(param.stored_codes.defined());  // prepared (or, at f32, dequantised), then dropped
        if (p == Precision::int8 && param.matmul_use == MatmulUse::transposed_weight) {
          // The embeddings read the file's codes of the tied table, not a quantisation of its own.
          REQUIRE(param.row_codes.defined());
          CHECK(param.row_codes.shape() == param.shape);
        }
      }
    }
  }
}

TEST_CASE("the default batch holds 64 rows of beams, between 8 and 16 sentences, and batching never changes the text") {
  CHECK(default_batch_sentences(1, 1, 0) == 32);  // greedy on one worker
  CHECK(default_batch_sentences(1, 2, 0) == 16);
  CHECK(default_batch_sentences(2, 1, 0) == 16);
  CHECK(default_batch_sentences(4, 1, 0) == 16);
  CHECK(default_batch_sentences(5, 2, 0) == 12);
  CHECK(default_batch_sentences(8, 1, 0) == 8);
  CHECK(default_batch_sentences(64, 1, 0) == 8);
  // An output table read from memory at every step (58,101 × 512 at f32): twice the rows.
  const int64_t opus_mt_f32 = 58101 * 512 * 4;
  CHECK(default_batch_sentences(1, 1, opus_mt_f32) == 64);
  CHECK(default_batch_sentences(4, 1, opus_mt_f32) == 32);
  CHECK(default_batch_sentences(4, 2, opus_mt_f32) == 32);
  CHECK(default_batch_sentences(64, 1, opus_mt_f32) == 8);
  CHECK(default_batch_sentences(4, 1, 58101 * 512) == 16);  // int8: a quarter, cached enough
  // Workers: one per thread, but one for all threads when each would stream a large table.
  ModelConfig opus_mt;
  opus_mt.target_vocab = 58101;
  opus_mt.model_dim = 512;
  CHECK(output_table_bytes(opus_mt, Precision::f32) == opus_mt_f32);
  CHECK(output_table_bytes(opus_mt, Precision::int8) == 58101 * 512);
  CHECK(default_workers(2, output_table_bytes(opus_mt, Precision::f32)) == 1);
  CHECK(default_workers(2, output_table_bytes(opus_mt, Precision::bf16)) == 1);
  CHECK(default_workers(2, output_table_bytes(opus_mt, Precision::int8)) == 2);
  CHECK(default_workers(4, 8000 * 256 * 4) == 4);  // heed's own models

  VocabModel m;
  std::vector<std::string> lines;
  for (int copy = 0; copy < 5; ++copy)
    for (const std::string& line : kMixedLines) lines.push_back(line);
  TranslateOptions automatic;  // beam 4: 16 sentences a batch
  TranslateOptions one_batch;
  one_batch.batch_sentences = 64;
  const auto a = Translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), automatic).translate(lines, 1);
  const auto b = Translator(*m.be, *m.model, test_vocabulary(), test_vocabulary(), one_batch).translate(lines, 1);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].texts == b[i].texts);
}

TEST_CASE("a model with local attention translates through its ring caches the same text, whatever the batch") {
  std::unique_ptr<Backend> be = make_backend(BackendKind::onednn);
  ModelConfig c = tiny_config();
  c.source_vocab = c.target_vocab = test_vocabulary().size();
  c.max_positions = 64;
  c.attention_window = 2;  // caches of 3 positions, while outputs run to 2 × source + 10
  Transformer model(c);
  model.parameters().initialize(5);
  std::vector<std::string> lines(kMixedLines.begin(), kMixedLines.end());
  TranslateOptions one, many;
  one.batch_sentences = 1;
  many.batch_sentences = 16;
  const auto a = Translator(*be, model, test_vocabulary(), test_vocabulary(), one).translate(lines, 1);
  const auto b = Translator(*be, model, test_vocabulary(), test_vocabulary(), many).translate(lines, 1);
  size_t longest = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].texts == b[i].texts);
    longest = std::max(longest, test_vocabulary().encode(a[i].texts.at(0)).size());
  }
  CHECK(longest > 3);  // some output ran past the ring
}
