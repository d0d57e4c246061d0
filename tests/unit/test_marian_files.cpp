// The file formats of a Marian release: .npz archives (stored and deflated, as numpy and Marian
// write them) read exactly, damaged ones refused with the file's name; YAML's subset that Marian
// writes read as YAML reads it, anything beyond it refused with the line.

#include <doctest/doctest.h>

#include <string>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/npz.h"
#include "heed/core/yaml_map.h"

using namespace heed;

namespace {

const std::string kReleases = std::string(HEED_FIXTURES_DIR) + "/marian/";

}  // namespace

TEST_CASE("an .npz archive is read whole, stored or deflated, each array with its dtype and shape") {
  for (const char* name : {"swish-2x2", "relu-1x2"}) {  // numpy.savez and numpy.savez_compressed
    CAPTURE(std::string(name));
    const Npz npz = Npz::read(kReleases + name + "/marian/opus.spm.npz");
    const Npz::Array* embeddings = npz.find("Wemb");
    REQUIRE(embeddings != nullptr);
    CHECK(embeddings->dtype == "<f4");
    CHECK(embeddings->shape == std::vector<int64_t>{249, std::string(name) == "swish-2x2" ? 16 : 20});
    CHECK(npz.f32("decoder_ff_logit_out_b").shape() == Shape({1, 249}));
    const Npz::Array* config = npz.find("special:model.yml");
    REQUIRE(config != nullptr);
    CHECK(config->dtype == "|i1");
    CHECK(config->data.starts_with("type: transformer\n"));
    CHECK_THROWS_WITH_AS(npz.f32("special:model.yml"), doctest::Contains("is |i1; heed reads float32 and float16"), Error);
    CHECK_THROWS_WITH_AS(npz.f32("Wpos"), doctest::Contains("no array Wpos"), Error);
  }
}

TEST_CASE("a damaged or truncated .npz is refused, naming it") {
  for (const char* name : {"swish-2x2", "relu-1x2"}) {
    CAPTURE(std::string(name));
    const std::string bytes = read_file(kReleases + name + "/marian/opus.spm.npz");
    CHECK_THROWS_WITH_AS(Npz::parse(bytes.substr(0, bytes.size() / 2), "half.npz"), doctest::Contains("half.npz"), Error);
    CHECK_THROWS_WITH_AS(Npz::parse(bytes.substr(0, 10), "ten.npz"), doctest::Contains("not a zip archive"), Error);
    std::string flipped = bytes;
    const size_t inside = bytes.find("\x93NUMPY") != std::string::npos ? bytes.find("\x93NUMPY") + 200 : 400;
    flipped[inside] = static_cast<char>(flipped[inside] ^ 0x55);  // inside the first array's data
    CHECK_THROWS_AS(Npz::parse(flipped, "flipped.npz"), Error);
  }
  CHECK_THROWS_WITH_AS(Npz::parse(std::string(100, 'x'), "text.npz"), doctest::Contains("not a zip archive"), Error);
}

TEST_CASE("YAML as Marian writes it: scalars plain and quoted, lists block and flow") {
  const YamlMap m = YamlMap::parse(
      "# a comment\n"
      "---\n"
      "type: transformer\n"
      "transformer-preprocess: \"\"\n"
      "version: v1.7.6 1d4ba73 2019-05-11 17:16:31 +0100  # with a comment\n"
      "dim-vocabs:\n"
      "  - 58101\n"
      "  - 58101\n"
      "transformer-tied-layers: []\n"
      "flow: [a, \"b c\", 'd']\n"
      "\"</s>\": 0\n"
      "\"\\\"\": 7\n"
      "'it''s': 8\n"
      "\"\\u2581caf\\xe9\\t\": 9\n"
      "a:b: 10\n"
      "\"key: with colon\": 11\r\n",
      "test.yml");
  CHECK(m.scalar_or("type", "") == "transformer");
  CHECK(m.scalar_or("transformer-preprocess", "x").empty());
  CHECK(m.scalar_or("version", "") == "v1.7.6 1d4ba73 2019-05-11 17:16:31 +0100");
  CHECK(m.list("dim-vocabs") == std::vector<std::string>{"58101", "58101"});
  CHECK(m.list("transformer-tied-layers").empty());
  CHECK(m.find("transformer-tied-layers")->is_list);
  CHECK(m.list("flow") == std::vector<std::string>{"a", "b c", "d"});
  CHECK(m.scalar_or("</s>", "") == "0");
  CHECK(m.scalar_or("\"", "") == "7");
  CHECK(m.scalar_or("it's", "") == "8");
  CHECK(m.scalar_or("\xE2\x96\x81" "caf\xC3\xA9\t", "") == "9");
  CHECK(m.scalar_or("a:b", "") == "10");
  CHECK(m.scalar_or("key: with colon", "") == "11");
  CHECK(m.scalar_or("absent", "default") == "default");
  CHECK_THROWS_WITH_AS(m.scalar_or("dim-vocabs", ""), doctest::Contains("'dim-vocabs' is a list"), Error);
  CHECK_THROWS_WITH_AS(m.list("type"), doctest::Contains("'type' is one value where a list"), Error);
}

TEST_CASE("YAML beyond Marian's subset is refused, naming the line") {
  const auto refused = [](const std::string& text, const std::string& message) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(YamlMap::parse(text, "bad.yml"), doctest::Contains(message.c_str()), Error);
  };
  refused("a: 1\nouter:\n  inner: 2\n", "bad.yml:3: an indented line that is not a list item");
  refused("a: 1\n- 2\n", "bad.yml:2: a list item where no key expects one");
  refused("a: 1\na: 2\n", "bad.yml:2: the key 'a' is given twice");
  refused("a: \"open\n", "bad.yml:1: a quoted string does not end on its line");
  refused("a: \"\\q\"\n", "bad.yml:1: unknown escape \\q");
  refused("a: &anchor 1\n", "bad.yml:1: '&' starts YAML that heed does not read");
  refused("a: {b: 1}\n", "bad.yml:1: '{' starts YAML");
  refused("just text\n", "bad.yml:1: expected 'key: value'");
  refused("a: [1, 2\n", "bad.yml:1: a '[' list does not end on its line");
  refused("a: \"x\" y\n", "bad.yml:1: text after the value of 'a'");
}
