// Hugging Face MarianMTModels imported: heed computes what transformers computed with the same
// weights (tests/fixtures/marian, written by tools/make_marian_fixtures.py): the logits of a
// teacher-forced pass to 1e-4, and greedy and beam search's tokens; so do Marian releases (.npz)
// of the same models.

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/json.h"
#include "heed/devices/devices.h"
#include "heed/model/marian_import.h"
#include "heed/model/marian_npz_import.h"
#include "heed/core/yaml_map.h"
#include "heed/text/renumbered_pieces.h"
#include "heed/text/vocabulary.h"
#include "support/greedy_decode.h"

using namespace heed;
using namespace heed::test;

namespace {

const std::string kMarian = std::string(HEED_FIXTURES_DIR) + "/marian/";

std::vector<int32_t> ids_of(const Json& row) {
  std::vector<int32_t> ids;
  for (const Json& id : row.array("ids")) ids.push_back(static_cast<int32_t>(id.integer("id")));
  return ids;
}

// Rows of ids right-padded with `pad` as an i32 tensor [rows, longest].
Tensor padded(const std::vector<std::vector<int32_t>>& rows, int32_t pad) {
  size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  Tensor t = Tensor::empty(Shape{static_cast<int64_t>(rows.size()), static_cast<int64_t>(longest)}, DType::i32);
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t s = 0; s < longest; ++s) t.data<int32_t>()[b * longest + s] = s < rows[b].size() ? rows[b][s] : pad;
  return t;
}

// The fixture's sources (`folder`/expected.json) without their </s>, and generate()'s length limit
// in heed's terms (generate() stops at max_new_tokens with a forced </s>; heed at one piece less).
std::vector<std::vector<int32_t>> fixture_sources(const Json& expected) {
  std::vector<std::vector<int32_t>> sources;
  for (const Json& row : expected.find("input_ids")->array("input_ids")) {
    std::vector<int32_t> ids = ids_of(row);
    ids.pop_back();  // the source's </s>: heed appends its own
    sources.push_back(ids);
  }
  return sources;
}
LengthLimit fixture_limit(const Json& expected) {
  return {.factor = 0.0, .offset = expected.find("generate")->find("max_new_tokens")->integer("max_new_tokens") - 1, .most = 0};
}

// The model computes what transformers computed (`folder`/expected.json): teacher-forced logits
// to 1e-4, greedy search's tokens, and (with `beam_options`) beam search's (4 beams, α 1).
void check_against_transformers(Transformer* model, const std::string& folder, const BeamOptions* beam_options,
                                const std::string& name) {
  auto be = make_backend(BackendKind::onednn);
  const ModelConfig& c = model->config();
  const Json expected = Json::parse(read_file(folder + "/expected.json"), "expected.json");
  const std::vector<Json>& inputs = expected.find("input_ids")->array("input_ids");
  const std::vector<Json>& forced = expected.find("decoder_input_ids")->array("decoder_input_ids");
  const std::vector<Json>& logits = expected.find("logits")->array("logits");

  // Teacher forcing: the first rows' logits at each forced position.
  std::vector<std::vector<int32_t>> sources, targets;
  for (size_t b = 0; b < forced.size(); ++b) {
    sources.push_back(ids_of(inputs[b]));
    targets.push_back(ids_of(forced[b]));
  }
  const Tensor ours = model->forward(*be, padded(sources, c.pad_id), padded(targets, c.pad_id), RunMode{});
  const int64_t steps = ours.shape()[1], vocab = c.target_vocab;
  double worst = 0.0;
  for (size_t b = 0; b < logits.size(); ++b)
    for (int64_t t = 0; t < steps; ++t) {
      const std::vector<Json>& theirs = logits[b].array("logits")[static_cast<size_t>(t)].array("logits");
      REQUIRE(static_cast<int64_t>(theirs.size()) == vocab);
      for (int64_t v = 0; v < vocab; ++v)
        worst = std::max(worst, std::fabs(ours.f32()[(static_cast<int64_t>(b) * steps + t) * vocab + v] -
                                          theirs[static_cast<size_t>(v)].number("logit")));
    }
  MESSAGE(std::string(name) << ": largest logit difference from transformers " << worst);
  CHECK(worst <= 1e-4);

  const std::vector<std::vector<int32_t>> all_sources = fixture_sources(expected);
  const auto outputs = greedy_decode(*be, *model, all_sources, fixture_limit(expected));
  const std::vector<Json>& greedy = expected.find("greedy")->array("greedy");
  for (size_t i = 0; i < greedy.size(); ++i) {
    std::vector<int32_t> theirs = ids_of(greedy[i]);
    if (!theirs.empty() && theirs.back() == c.eos_id) theirs.pop_back();
    CHECK(outputs[i] == theirs);
  }

  // Beam search: generate(num_beams=4, length_penalty=1.0, early_stopping=True)'s tokens.
  if (beam_options == nullptr) return;
  BeamOptions beam = *beam_options;
  beam.length = fixture_limit(expected);
  BeamSearch search(*be, *model, beam);
  const auto best = search.translate(all_sources);
  const std::vector<Json>& beamed = expected.find("beam4")->array("beam4");
  for (size_t i = 0; i < beamed.size(); ++i) {
    std::vector<int32_t> theirs = ids_of(beamed[i]);
    if (!theirs.empty() && theirs.back() == c.eos_id) theirs.pop_back();
    CAPTURE(i);
    CAPTURE(fmt::format("{}", fmt::join(best[i].at(0).pieces, " ")));
    CAPTURE(fmt::format("{}", fmt::join(theirs, " ")));
    CHECK(best[i].at(0).pieces == theirs);
  }
}

}  // namespace

TEST_CASE("an imported MarianMTModel computes transformers' logits, and greedy and beam search its tokens") {
  // As generate(num_beams=4, length_penalty=1.0, early_stopping=True) runs it: the converted file
  // says BeamScoring::transformers.
  const BeamOptions beam{.beam = 4, .length_penalty = 1.0f, .scoring = BeamScoring::transformers, .length = {}};
  for (const char* name : {"swish-2x2", "gelu-1x3", "relu-2x1", "relu-1x2"}) {
    CAPTURE(std::string(name));
    const auto model = import_marian(kMarian + name);
    check_against_transformers(model.get(), kMarian + name, &beam, name);
  }
}

TEST_CASE("a Marian release (.npz, decoder.yml, .vocab.yml) computes what transformers computes with it") {
  // transformers' conversion of the release is the fixture's MarianMTModel (the tool checks it):
  // heed's conversion must compute what that model does, Marian's layer-norm ε (1e-6, where
  // transformers uses 1e-5) aside. Beam search ranks as Marian does (log p / length, </s> counted),
  // not as generate() does: its hypotheses must be those of the Hugging Face folder's conversion
  // searched the same way.
  auto be = make_backend(BackendKind::onednn);
  for (const char* name : {"swish-2x2", "relu-1x2"}) {
    CAPTURE(std::string(name));
    const LoadedModel loaded = import_marian_npz_folder(kMarian + name + "/marian");
    const ModelConfig& c = loaded.model->config();
    CHECK(c.pad_id == c.bos_id);
    CHECK(c.pad_id == c.target_vocab - 1);
    CHECK(c.layer_norm_epsilon == 1e-6f);
    CHECK(loaded.extras.vocabularies.size() == 2);
    CHECK(loaded.extras.metadata.find("translate-normalize=1\n") != std::string::npos);
    check_against_transformers(loaded.model.get(), kMarian + name, nullptr, name);

    const Json expected = Json::parse(read_file(kMarian + name + "/expected.json"), "expected.json");
    const BeamOptions marian_beam{.beam = 4, .length_penalty = 1.0f, .scoring = BeamScoring::heed,
                                  .length = fixture_limit(expected)};
    const auto from_folder = import_marian(kMarian + name);
    const auto ours = BeamSearch(*be, *loaded.model, marian_beam).translate(fixture_sources(expected));
    const auto theirs = BeamSearch(*be, *from_folder, marian_beam).translate(fixture_sources(expected));
    for (size_t i = 0; i < ours.size(); ++i) CHECK(ours[i].at(0).pieces == theirs[i].at(0).pieces);
  }
}

TEST_CASE("a Marian model.yml that heed cannot compute as trained is refused, naming the field") {
  const std::string base =
      "type: transformer\ndim-emb: 16\ndim-vocabs:\n  - 249\n  - 249\nenc-depth: 2\ndec-depth: 2\n"
      "transformer-heads: 2\ntransformer-dim-ffn: 32\ntransformer-ffn-activation: swish\ntransformer-preprocess: \"\"\n"
      "transformer-postprocess: dan\ntied-embeddings-all: true\n";
  const auto config = [](const std::string& text) { return marian_npz_config(YamlMap::parse(text, "model.yml"), 249, "model.yml"); };
  const auto changed = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  const ModelConfig c = config(base);
  CHECK(c.activation == Activation::swish);
  CHECK(c.norm == NormPlacement::post);
  CHECK(c.target_vocab == 250);
  CHECK(c.alignment_layer == -1);
  CHECK_THROWS_WITH_AS(config(changed("activation: swish", "activation: gelu")),
                       doctest::Contains("transformer-ffn-activation is 'gelu'"), Error);
  CHECK_THROWS_WITH_AS(config(changed("preprocess: \"\"", "preprocess: n")),
                       doctest::Contains("transformer-preprocess is 'n'"), Error);
  CHECK_THROWS_WITH_AS(config(changed("  - 249\n  - 249", "  - 249\n  - 300")), doctest::Contains("dim-vocabs is [249, 300]"),
                       Error);
  CHECK_THROWS_WITH_AS(config(changed("tied-embeddings-all: true", "tied-embeddings: true")),
                       doctest::Contains("neither tied-embeddings-all nor tied-embeddings-src"), Error);
  CHECK_THROWS_WITH_AS(config(changed("type: transformer", "type: s2s")), doctest::Contains("type is 's2s'"), Error);
  // A model trained with guided alignment: head 0 of the chosen layer, at the predicting step.
  const ModelConfig guided = config(base + "guided-alignment: corpus.align\ntransformer-guided-alignment-layer: 1\n");
  CHECK(guided.alignment_layer == 0);
  CHECK(guided.alignment_head == 0);
  CHECK(guided.alignment_step == AlignmentStep::predict);
  CHECK(config(base + "guided-alignment: corpus.align\n").alignment_layer == 1);
}

TEST_CASE("a Marian config that heed cannot compute as trained is refused, naming the field") {
  const std::string base = read_file(kMarian + "swish-2x2/config.json");
  const auto changed = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  CHECK(marian_config(base, "config.json").activation == Activation::swish);
  CHECK_THROWS_WITH_AS(marian_config(changed("\"swish\"", "\"gelu_new\""), "config.json"),
                       doctest::Contains("activation_function \"gelu_new\" is not supported"), Error);
  CHECK_THROWS_WITH_AS(marian_config(changed("\"decoder_ffn_dim\": 32", "\"decoder_ffn_dim\": 64"), "config.json"),
                       doctest::Contains("encoder_ffn_dim is 32 but decoder_ffn_dim is 64"), Error);
  CHECK_THROWS_WITH_AS(marian_config(changed("\"model_type\": \"marian\"", "\"model_type\": \"bart\""), "config.json"),
                       doctest::Contains("model_type must be \"marian\""), Error);
  CHECK_THROWS_WITH_AS(marian_config(changed("\"share_encoder_decoder_embeddings\": true",
                                             "\"share_encoder_decoder_embeddings\": false"), "config.json"),
                       doctest::Contains("share_encoder_decoder_embeddings is false"), Error);
}

TEST_CASE("renumbered into vocab.json's ids, Marian's SentencePiece models cut and join text as MarianTokenizer") {
  for (const char* name : {"swish-2x2", "relu-2x1"}) {
    CAPTURE(std::string(name));
    const std::string folder = kMarian + name + "/";
    const Json vocab_json = Json::parse(read_file(folder + "vocab.json"), "vocab.json");
    std::vector<std::string> pieces(vocab_json.object("vocab.json").size());
    for (const auto& [piece, id] : vocab_json.object("vocab.json")) pieces.at(static_cast<size_t>(id.integer(piece))) = piece;
    const RenumberedIds ids{.unk = 1, .eos = 0, .pad = static_cast<int>(pieces.size()) - 1};
    const Vocabulary source = Vocabulary::from_serialized(renumber_pieces(read_file(folder + "source.spm"), pieces, ids, "source.spm"), "source");
    const Vocabulary target = Vocabulary::from_serialized(renumber_pieces(read_file(folder + "target.spm"), pieces, ids, "target.spm"), "target");
    CHECK(source.size() == static_cast<int64_t>(pieces.size()));
    const Json expected = Json::parse(read_file(folder + "expected.json"), "expected.json");
    const std::vector<Json>& lines = expected.find("lines")->array("lines");
    const std::vector<Json>& inputs = expected.find("input_ids")->array("input_ids");
    for (size_t i = 0; i < lines.size(); ++i) {
      std::vector<int32_t> theirs = ids_of(inputs[i]);
      theirs.pop_back();  // </s>
      CHECK(source.encode(lines[i].string("line")) == theirs);
    }
    const std::vector<Json>& greedy = expected.find("greedy")->array("greedy");
    const std::vector<Json>& texts = expected.find("greedy_text")->array("greedy_text");
    for (size_t i = 0; i < greedy.size(); ++i) {
      std::vector<int32_t> output = ids_of(greedy[i]);
      if (!output.empty() && output.back() == 0) output.pop_back();
      CHECK(target.decode(output) == texts[i].string("text"));
    }
  }
  // A model whose pieces the list lacks would cut text otherwise: refused.
  CHECK_THROWS_WITH_AS(renumber_pieces(read_file(kMarian + "swish-2x2/source.spm"), {"</s>", "<unk>", "<pad>"},
                                       RenumberedIds{.unk = 1, .eos = 0, .pad = 2}, "source.spm"),
                       doctest::Contains("is not in the model's vocabulary (vocab.json)"), Error);
}
