// JSON and safetensors, the formats of a Hugging Face model folder: parsed strictly, with errors
// that name the file, line and column; checked on the Marian fixtures that transformers wrote
// (tests/fixtures/marian, tools/make_marian_fixtures.py).

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/json.h"
#include "heed/core/safetensors.h"

using namespace heed;

namespace {
const std::string kMarian = std::string(HEED_FIXTURES_DIR) + "/marian/";
}

TEST_CASE("json: values, escapes and nesting as RFC 8259 writes them") {
  const Json j = Json::parse(R"( {"a": [1, -2.5e2, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "o": {}} )", "t");
  const std::vector<Json>& a = j.find("a")->array("a");
  REQUIRE(a.size() == 5);
  CHECK(a[0].integer("a0") == 1);
  CHECK(a[1].number("a1") == -250.0);
  CHECK(a[2].boolean("a2"));
  CHECK_FALSE(a[3].boolean("a3"));
  CHECK(a[4].is_null());
  CHECK(j.find("s")->string("s") == "x\"\\/\n\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(j.find("o")->object("o").empty());
  CHECK(j.find("missing") == nullptr);
  CHECK_THROWS_WITH_AS(Json::parse("2.5", "t").integer("config.json: d_model"), doctest::Contains("d_model must be a whole number"), Error);
  CHECK_THROWS_WITH_AS(j.find("s")->number("config.json: s"), doctest::Contains("must be a number, not a string"), Error);
}

TEST_CASE("json: what is not JSON is refused with the file, line and column") {
  const auto error = [](const std::string& text) {
    try {
      Json::parse(text, "f.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("parsed");
  };
  CHECK(error("{\"a\": 1,}").find("f.json:1:9") != std::string::npos);
  CHECK(error("{\n  \"a\": [1 2]\n}").find("f.json:2:11: not valid JSON: ',' or ']' expected") != std::string::npos);
  CHECK(error("[NaN]").find("a value was expected") != std::string::npos);
  CHECK(error("\"abc").find("not closed") != std::string::npos);
  CHECK(error("\"\\ud800\"").find("lone UTF-16 surrogate") != std::string::npos);
  CHECK(error("1e999").find("out of range") != std::string::npos);
  CHECK(error("{} x").find("text after the end") != std::string::npos);
  CHECK(error(std::string(300, '[') + std::string(300, ']')).find("nested deeper than 256") != std::string::npos);
}

TEST_CASE("safetensors: a Marian model transformers saved, its tensors as its config says") {
  const Json config = Json::parse(read_file(kMarian + "swish-2x2/config.json"), "config.json");
  const int64_t d = config.find("d_model")->integer("d_model"), vocab = config.find("vocab_size")->integer("vocab_size");
  const int64_t ffn = config.find("encoder_ffn_dim")->integer("encoder_ffn_dim");
  const SafeTensors st = SafeTensors::read(kMarian + "swish-2x2/model.safetensors");
  CHECK(st.metadata().find("format")->string("format") == "pt");
  const Tensor shared = st.f32("model.shared.weight");
  CHECK(shared.shape() == Shape({vocab, d}));
  CHECK(st.f32("model.encoder.layers.1.fc1.weight").shape() == Shape({ffn, d}));
  CHECK(st.f32("model.decoder.layers.0.encoder_attn.q_proj.bias").shape() == Shape({d}));
  const Tensor bias = st.f32("final_logits_bias");
  CHECK(bias.shape() == Shape({1, vocab}));
  double sum = 0.0;
  for (int64_t i = 0; i < bias.numel(); ++i) sum += std::fabs(bias.f32()[i]);
  CHECK(sum > 1.0);  // the fixture's bias is drawn, not zero: a reader that skipped it would show
  CHECK_THROWS_WITH_AS(st.f32("lm_head.bias"), doctest::Contains("no tensor lm_head.bias"), Error);

  // vocab.json: the joint id map, <pad> last and the model's pad id.
  const Json ids = Json::parse(read_file(kMarian + "swish-2x2/vocab.json"), "vocab.json");
  std::set<int64_t> seen;
  for (const auto& [piece, id] : ids.object("vocab.json")) seen.insert(id.integer(piece));
  CHECK(static_cast<int64_t>(seen.size()) == vocab);
  CHECK(ids.find("<pad>")->integer("<pad>") == config.find("pad_token_id")->integer("pad_token_id"));
}

TEST_CASE("safetensors: a cut-short or inconsistent file is refused with its name") {
  const std::string whole = read_file(kMarian + "relu-2x1/model.safetensors");
  CHECK_THROWS_WITH_AS(SafeTensors::parse(whole.substr(0, whole.size() - 100), "cut.safetensors"),
                       doctest::Contains("cut.safetensors: tensor"), Error);
  CHECK_THROWS_WITH_AS(SafeTensors::parse(whole.substr(0, 100), "head.safetensors"),
                       doctest::Contains("head.safetensors: not a safetensors file, or cut short"), Error);
  std::string header = R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  CHECK_THROWS_WITH_AS(SafeTensors::parse(bytes + header + std::string(24, '\0'), "odd.safetensors"),
                       doctest::Contains("20 bytes for a F32 tensor of 6 values"), Error);
  header = R"({"w": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 2]}})";
  bytes[0] = static_cast<char>(header.size());
  CHECK_THROWS_WITH_AS(SafeTensors::parse(bytes + header + "xx", "q.safetensors"), doctest::Contains("unknown dtype Q4"), Error);
}
