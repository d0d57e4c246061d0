#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/half.h"
#include "heed/devices/devices.h"
#include "heed/model/average.h"
#include "heed/model/int8_storage.h"
#include "heed/model/model_file.h"
#include "heed/text/vocabulary.h"
#include "model_support.h"

using namespace heed;
using namespace heed::test;
namespace fs = std::filesystem;

namespace {

// A tiny model whose vocabulary is the real one above.
struct TestModel {
  std::unique_ptr<Transformer> model;
  ModelExtras extras;
  TestModel() {
    ModelConfig c = tiny_config();
    c.source_vocab = c.target_vocab = test_vocabulary().size();
    model = std::make_unique<Transformer>(c);
    model->parameters().initialize(3);
    extras.vocabularies.push_back({"joint", test_vocabulary().serialized()});
    extras.metadata = "trained-on = a test\n";
  }
  std::string bytes() const { return serialize_model(*model, extras); }
};

// Makes a damaged file consistent again (size and checksum), so the damage reaches the parser.
void repair(std::string& bytes) {
  const uint64_t size = bytes.size();
  std::memcpy(bytes.data() + 16, &size, sizeof size);
  const uint64_t checksum = model_checksum(std::string_view(bytes).substr(0, bytes.size() - 16));
  std::memcpy(bytes.data() + bytes.size() - 16, &checksum, sizeof checksum);
}

std::string error_of(const std::string& bytes) {
  try {
    parse_model(bytes, "model.heed");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a model file round-trips bit-exactly, vocabulary and metadata included") {
  const TestModel original;
  const std::string bytes = original.bytes();
  const LoadedModel loaded = parse_model(bytes, "model.heed");
  CHECK(loaded.model->config().to_text() == original.model->config().to_text());
  const Tensor& a = original.model->parameters().values();
  const Tensor& b = loaded.model->parameters().values();
  REQUIRE(a.bytes() == b.bytes());
  CHECK(std::memcmp(a.raw(), b.raw(), a.bytes()) == 0);
  CHECK(loaded.extras.metadata == original.extras.metadata);
  REQUIRE(loaded.extras.vocabularies.size() == 1);
  CHECK(loaded.extras.vocabularies[0].bytes == test_vocabulary().serialized());
  CHECK(serialize_model(*loaded.model, loaded.extras) == bytes);
  CHECK(loaded.checksum == model_checksum(std::string_view(bytes).substr(0, bytes.size() - 16)));
}

TEST_CASE("a truncated model file says it is truncated, at every length") {
  const std::string bytes = TestModel().bytes();
  CHECK(error_of("").find("is empty") != std::string::npos);
  for (size_t length = 1; length < bytes.size(); length += 1 + length / 16) {
    CAPTURE(length);
    CHECK(error_of(bytes.substr(0, length)).find("is truncated") != std::string::npos);
  }
}

TEST_CASE("a flipped byte anywhere after the header is reported as corruption") {
  const std::string bytes = TestModel().bytes();
  for (size_t offset = 24; offset < bytes.size(); offset += 1 + bytes.size() / 3000) {
    std::string damaged = bytes;
    damaged[offset] = static_cast<char>(damaged[offset] ^ 0x10);
    CAPTURE(offset);
    CHECK(error_of(damaged).find("is corrupted") != std::string::npos);
  }
}

TEST_CASE("a foreign file, a future version and extra bytes each get their own message") {
  const std::string bytes = TestModel().bytes();
  CHECK(error_of("\x89PNG\r\n\x1a\nsome image").find("is not a heed model file") != std::string::npos);
  CHECK(error_of("source = target\n").find("is not a heed model file") != std::string::npos);
  // A newer heed's file is whole (its checksum matches); a version field damaged by one flipped bit
  // is corruption, not a reason to upgrade.
  std::string future = bytes;
  future[8] = 3;
  const uint64_t checksum = fnv1a64(std::string_view(future).substr(0, future.size() - 16));
  std::memcpy(future.data() + future.size() - 16, &checksum, sizeof checksum);
  CHECK(error_of(future).find("written by a newer heed (format 3") != std::string::npos);
  std::string flipped = bytes;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x04);
  CHECK(error_of(flipped).find("is corrupted: its format version reads 262145") != std::string::npos);
  CHECK(error_of(flipped).find("upgrade") == std::string::npos);
  CHECK(error_of(bytes + "xx").find("2 unexpected bytes after its end") != std::string::npos);
}

TEST_CASE("a file whose config does not match its tensors or vocabulary is refused") {
  std::string bytes = TestModel().bytes();
  const size_t at = bytes.find("ffn-dim = 12");
  REQUIRE(at != std::string::npos);
  std::string wider = bytes;
  wider[at + 11] = '6';  // ffn-dim = 16
  repair(wider);
  CHECK(error_of(wider).find("has shape") != std::string::npos);

  std::string vocab = bytes;
  const size_t v = vocab.find("source-vocab = ");
  vocab[v + 15] = static_cast<char>(vocab[v + 15] == '9' ? '8' : vocab[v + 15] + 1);
  vocab.replace(vocab.find("target-vocab = ") + 15, 1, 1, vocab[v + 15]);
  repair(vocab);
  const std::string message = error_of(vocab);
  CHECK((message.find("pieces, the model expects") != std::string::npos || message.find("has shape") != std::string::npos ||
         message.find("declares more parameters") != std::string::npos));
}

TEST_CASE("a config that demands unbounded memory is refused before anything is allocated") {
  const std::string text = ModelConfig{}.to_text();
  const auto with = [&text](const std::string& key, const std::string& value, std::string changed = "") {
    if (changed.empty()) changed = text;
    const size_t at = changed.find(key + " = ");
    REQUIRE(at != std::string::npos);
    changed.replace(at, changed.find('\n', at) - at, key + " = " + value);
    return changed;
  };
  const auto refusal = [](const std::string& config) {
    try {
      ModelConfig::from_text(config);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  for (const std::string value : {"100000000", "2147483647", "9223372036854775807"})
    CHECK(refusal(with("max-positions", value)).find("max-positions = " + value + " is out of range") != std::string::npos);
  for (const std::string key : {"model-dim", "ffn-dim", "encoder-layers", "source-vocab", "heads"})
    CHECK(refusal(with(key, "4000000000")).find(key + " = 4000000000 is out of range") != std::string::npos);
  CHECK(refusal(with("max-positions", "65536", with("model-dim", "4096"))).find("position table") != std::string::npos);
  CHECK(refusal(with("dropout", "nan")).find("finite") != std::string::npos);
  // Text from the file never reaches the terminal raw.
  const std::string message = refusal(with("activation", "\x1b[31mred"));
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK(message.find("\\x1b[31mred") != std::string::npos);
}

TEST_CASE("10,000 randomly damaged model files never crash the loader") {
  const TestModel model;
  // Half of them f32 files, half int8 ones (codes and per-channel scales).
  const std::string files[2] = {model.bytes(), serialize_model(*model.model, model.extras, StoredPrecision::int8)};
  Rng rng(2024);
  int loaded = 0, refused = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string damaged = files[i % 4 < 2];
    const int mutations = 1 + static_cast<int>(rng.next_u64() % 4);
    for (int m = 0; m < mutations; ++m) {
      const size_t at = rng.next_u64() % damaged.size();
      switch (rng.next_u64() % 4) {
        case 0: damaged[at] = static_cast<char>(rng.next_u64()); break;                      // overwrite a byte
        case 1: damaged.erase(at, 1 + rng.next_u64() % 16); break;                           // delete a run
        case 2: damaged.insert(at, std::string(1 + rng.next_u64() % 16, static_cast<char>(rng.next_u64()))); break;
        case 3: damaged.resize(std::max<size_t>(1, at)); break;                              // truncate
      }
      if (damaged.empty()) damaged = "x";
    }
    // Half the files get a valid size and checksum, so the damage reaches the parser.
    if (i % 2 == 0 && damaged.size() > 40) repair(damaged);
    try {
      parse_model(damaged, "fuzz.heed");
      ++loaded;
    } catch (const Error&) {
      ++refused;
    }
  }
  CHECK(loaded + refused == 10000);
  CHECK(refused > 9000);
}

TEST_CASE("saving is atomic: a failed save leaves the previous file intact and no temporary behind") {
  TempDir dir;
  const std::string path = dir.file("model.heed");
  const TestModel model;
  save_model(path, *model.model, model.extras);
  const std::string before = read_file(path);
  CHECK(parse_model(before, path).model->parameters().count() == model.model->parameters().count());

  // A full disk, simulated with a file-size limit: writes past it fail (EFBIG) as on ENOSPC.
  struct rlimit old_limit;
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    save_model(path, *model.model, model.extras);
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  CHECK(message.find("cannot save " + path) != std::string::npos);
  CHECK(message.find("previous file") != std::string::npos);
  CHECK(read_file(path) == before);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) files += entry.is_regular_file();
  CHECK(files == 1);

  CHECK_THROWS_WITH_AS(save_model(dir.file("missing/model.heed"), *model.model, model.extras),
                       doctest::Contains("cannot save"), Error);
  CHECK_THROWS_WITH_AS(load_model(dir.file("absent.heed")), doctest::Contains("no such file"), Error);
}

TEST_CASE("describe_model names the checksum, the parameter count and the vocabularies") {
  const TestModel model;
  const LoadedModel loaded = parse_model(model.bytes(), "model.heed");
  const std::string text = describe_model(loaded);
  CHECK(text.find(fmt::format("parameters    {}", model.model->parameters().count())) != std::string::npos);
  CHECK(text.find(fmt::format("{:016x}", loaded.checksum)) != std::string::npos);
  CHECK(text.find("sentencepiece joint") != std::string::npos);
  CHECK(text.find("attention = scaled-dot") != std::string::npos);
}

TEST_CASE("a model's length normalisation α travels in its metadata, and a bad value names the file") {
  ModelExtras extras;
  extras.metadata = "trained-on = a test\n";
  CHECK_FALSE(model_length_normalization(extras, "m.heed").has_value());
  extras.metadata = with_metadata_value(extras.metadata, "translate-normalize", "1.25");
  extras.metadata = with_metadata_value(extras.metadata, "translate-normalize", "1.5");  // replaced, not appended
  CHECK(extras.metadata == "trained-on = a test\ntranslate-normalize=1.5\n");
  CHECK(model_length_normalization(extras, "m.heed").value_or(0.0f) == doctest::Approx(1.5));
  for (const char* bad : {"x", "1.5x", "-1", "11", ""}) {
    extras.metadata = with_metadata_value("", "translate-normalize", bad);
    CHECK_THROWS_WITH_AS(model_length_normalization(extras, "m.heed"),
                         doctest::Contains("m.heed's metadata: translate-normalize must be a number from 0 to 10"), Error);
  }
}

TEST_CASE("how finely the training text was cut travels in a model's metadata, and a bad value names the file") {
  ModelExtras extras;
  CHECK_FALSE(model_source_pieces_per_word(extras, "m.heed").has_value());
  extras.metadata = with_metadata_value(extras.metadata, kSourcePiecesPerWordKey, "1.231");
  CHECK(model_source_pieces_per_word(extras, "m.heed").value_or(0.0) == doctest::Approx(1.231));
  extras.metadata = with_source_text_figures("", 300, 200, 20);
  CHECK(extras.metadata == "source-pieces-per-word=1.500\nsource-pieces-per-sentence=15.00\n");
  CHECK(model_source_pieces_per_sentence(extras, "m.heed").value_or(0.0) == doctest::Approx(15.0));
  for (const char* bad : {"x", "1.2x", "0", "-1", ""}) {
    extras.metadata = with_metadata_value("", kSourcePiecesPerWordKey, bad);
    CHECK_THROWS_WITH_AS(model_source_pieces_per_word(extras, "m.heed"),
                         doctest::Contains("m.heed's metadata: source-pieces-per-word must be a positive number"), Error);
  }
}

TEST_CASE("a model stored in f16 loads back within half precision of every weight") {
  const TestModel original;
  const std::string f32 = serialize_model(*original.model, original.extras);
  const std::string f16 = serialize_model(*original.model, original.extras, StoredPrecision::f16);
  CHECK(f16.size() < f32.size() * 0.6 + 100000);
  const LoadedModel loaded = parse_model(f16, "half.heed");
  CHECK(loaded.precision == StoredPrecision::f16);
  const Tensor& a = original.model->parameters().values();
  const Tensor& b = loaded.model->parameters().values();
  for (int64_t i = 0; i < a.numel(); ++i)
    REQUIRE(std::abs(b.f32()[i] - a.f32()[i]) <= std::abs(a.f32()[i]) * 0x1p-11f + 1e-7f);
}

TEST_CASE("int8 storage: a scale per channel, the largest weight at ±127, a channel of zeros with scale 1") {
  const float w[2 * 3] = {0.6f, 0.0f, -2.0f,
                          -1.0f, 0.0f, 1.2f};
  const Int8Weight by_column = quantize_channels(w, Shape{2, 3}, 1);
  CHECK(by_column.scales == std::vector<float>{1.0f / 127.0f, 1.0f, 2.0f / 127.0f});
  CHECK(by_column.codes == std::vector<int8_t>{76, 0, -127, -127, 0, 76});  // 76.2 both
  const Int8Weight by_row = quantize_channels(w, Shape{2, 3}, 0);
  CHECK(by_row.scales == std::vector<float>{2.0f / 127.0f, 1.2f / 127.0f});
  CHECK(by_row.codes == std::vector<int8_t>{38, 0, -127, -106, 0, 127});  // 38.1, −105.8
  float back[6];
  dequantize_channels(by_row.codes.data(), by_row.scales.data(), Shape{2, 3}, 0, back);
  for (int i = 0; i < 6; ++i) CHECK(back[i] == doctest::Approx(w[i]).epsilon(0.02));
}

TEST_CASE("a model stored in int8: matmul weights within half a step of their channel, the rest f16, and int8 "
          "preparation gives back the file's codes") {
  const TestModel original;
  const std::string f16 = serialize_model(*original.model, original.extras, StoredPrecision::f16);
  const std::string int8 = serialize_model(*original.model, original.extras, StoredPrecision::int8);
  const LoadedModel half = parse_model(f16, "half.heed");
  const LoadedModel loaded = parse_model(int8, "int8.heed");
  CHECK(half.format_version == 1);  // older heeds still read files without int8 tensors
  CHECK(loaded.format_version == 2);
  CHECK(loaded.precision == StoredPrecision::int8);
  CHECK(describe_model(loaded).find("weights stored as int8") != std::string::npos);
  const auto& before = original.model->parameters().all();
  const auto& after = loaded.model->parameters().all();
  REQUIRE(before.size() == after.size());
  int matmul_weights = 0;
  auto be = make_backend(BackendKind::reference);
  Rng rng(5);
  for (size_t i = 0; i < before.size(); ++i) {
    CAPTURE(before[i].name);
    const Tensor& a = before[i].value;
    const Tensor& b = after[i].value;
    if (before[i].matmul_use == MatmulUse::none) {
      for (int64_t j = 0; j < a.numel(); ++j)
        REQUIRE(std::abs(b.f32()[j] - a.f32()[j]) <= std::abs(a.f32()[j]) * 0x1p-11f + 1e-7f);
      continue;
    }
    ++matmul_weights;
    const bool transposed = before[i].matmul_use == MatmulUse::transposed_weight;
    const int64_t rows = a.shape()[0], cols = a.shape()[1];
    for (int64_t ch = 0; ch < (transposed ? rows : cols); ++ch) {
      float max_abs = 0.0f;
      const auto at = [&](const Tensor& t, int64_t k) { return transposed ? t.f32()[ch * cols + k] : t.f32()[k * cols + ch]; };
      for (int64_t k = 0; k < (transposed ? cols : rows); ++k) max_abs = std::max(max_abs, std::abs(at(a, k)));
      for (int64_t k = 0; k < (transposed ? cols : rows); ++k)
        REQUIRE(std::abs(at(b, k) - at(a, k)) <= max_abs / 254.0f * 1.0001f);
    }
    // The same int8 codes: a code one off would move the product by a whole step (~1%).
    const int64_t in = transposed ? cols : rows;
    const Tensor x = random_tensor(Shape{5, in}, rng);
    const auto from_original = be->prepare_weight(a, transposed, Precision::int8);
    const auto from_file = be->prepare_weight(b, transposed, Precision::int8);
    Tensor y1 = Tensor::empty(Shape{5, from_original->out()}), y2 = Tensor::empty(Shape{5, from_file->out()});
    be->matmul(x, *from_original, nullptr, y1);
    be->matmul(x, *from_file, nullptr, y2);
    for (int64_t j = 0; j < y1.numel(); ++j) REQUIRE(y2.f32()[j] == doctest::Approx(y1.f32()[j]).epsilon(1e-5));
  }
  CHECK(matmul_weights > 10);
}

TEST_CASE("an int8 model file with a broken scale names the tensor") {
  const TestModel model;
  std::string bytes = serialize_model(*model.model, model.extras, StoredPrecision::int8);
  // The first matmul weight's scales, found by value, then one made NaN.
  const Parameter* first = nullptr;
  for (const Parameter& p : model.model->parameters().all())
    if (!first && p.matmul_use != MatmulUse::none) first = &p;
  REQUIRE(first != nullptr);
  const Int8Weight q = quantize_channels(first->value.f32(), first->shape, first->matmul_use == MatmulUse::transposed_weight ? 0 : 1);
  const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(q.scales.data()), q.scales.size() * sizeof(float)));
  REQUIRE(at != std::string::npos);
  const float nan = std::nanf("");
  std::memcpy(bytes.data() + at, &nan, sizeof nan);
  repair(bytes);
  CHECK(error_of(bytes).find("model.heed is malformed: int8 tensor " + first->name + " has scale nan for channel 0") !=
        std::string::npos);
}

TEST_CASE("half precision conversion rounds to nearest even and keeps special values") {
  for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f})
    CHECK(half_to_float(float_to_half(v)) == doctest::Approx(v).epsilon(1e-3));
  CHECK(float_to_half(1.0f + 0x1p-11f) == float_to_half(1.0f));                       // tie: to even
  CHECK(float_to_half(1.0f + 0x1p-11f + 0x1p-20f) == float_to_half(1.0f) + 1);       // above the tie: up
  CHECK(std::isinf(half_to_float(float_to_half(1e6f))));
  CHECK(std::isnan(half_to_float(float_to_half(NAN))));
}

TEST_CASE("halves_to_floats converts every half as half_to_float does, at any alignment") {
  std::vector<char> bytes(2 * 65536 + 1);
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto half = static_cast<uint16_t>(h);
    std::memcpy(bytes.data() + 1 + 2 * h, &half, sizeof half);  // odd address: as a file's bytes may lie
  }
  std::vector<float> out(65536);
  halves_to_floats(bytes.data() + 1, 65536, out.data());
  int64_t differ = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float expected = half_to_float(static_cast<uint16_t>(h));
    const float got = out[h];
    // NaNs: a signalling one may come back quiet; NaN it stays.
    if (std::isnan(expected) ? !std::isnan(got) : std::memcmp(&expected, &got, sizeof got) != 0) ++differ;
  }
  CHECK(differ == 0);
}

TEST_CASE("the average of one model is that model, of several the element-wise mean, and mismatches are refused") {
  TestModel a;
  const LoadedModel one = parse_model(a.bytes(), "a.heed");
  std::vector<LoadedModel> models;
  models.push_back(parse_model(a.bytes(), "a.heed"));
  const LoadedModel same = average_models(models, {"a.heed"});
  const Tensor& original = one.model->parameters().values();
  CHECK(std::memcmp(same.model->parameters().values().raw(), original.raw(), original.bytes()) == 0);
  CHECK(same.extras.metadata.find("averaged = \"a.heed\"") != std::string::npos);

  // A second model with other weights: the mean, element by element.
  TestModel b;
  b.model->parameters().initialize(4);
  models.push_back(parse_model(b.bytes(), "b.heed"));
  const LoadedModel mean = average_models(models, {"a.heed", "b.heed"});
  const float* pa = models[0].model->parameters().values().f32();
  const float* pb = models[1].model->parameters().values().f32();
  const float* pm = mean.model->parameters().values().f32();
  for (int64_t i = 0; i < original.numel(); i += 97)
    CHECK(pm[i] == static_cast<float>((static_cast<double>(pa[i]) + pb[i]) / 2.0));

  // Another architecture, or another vocabulary, cannot be averaged in.
  TestModel wide;
  ModelConfig c = wide.model->config();
  c.ffn_dim *= 2;
  wide.model = std::make_unique<Transformer>(c);
  std::vector<LoadedModel> mixed;
  mixed.push_back(parse_model(a.bytes(), "a.heed"));
  mixed.push_back(parse_model(wide.bytes(), "wide.heed"));
  CHECK_THROWS_WITH_AS(average_models(mixed, {"a.heed", "wide.heed"}),
                       doctest::Contains("wide.heed cannot be averaged with a.heed: their configurations differ"), Error);
  // The message names the key that differs and nothing else (not both whole configurations).
  try {
    average_models(mixed, {"a.heed", "wide.heed"});
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find(fmt::format("differ in ffn-dim ({} in a.heed, {} in wide.heed)", c.ffn_dim / 2, c.ffn_dim)) !=
          std::string::npos);
    CHECK(message.find("model-dim") == std::string::npos);
  }
  TestModel renamed;
  renamed.extras.vocabularies[0].name = "source";
  renamed.extras.vocabularies.push_back({"target", test_vocabulary().serialized()});
  mixed[1] = parse_model(renamed.bytes(), "other.heed");
  CHECK_THROWS_WITH_AS(average_models(mixed, {"a.heed", "other.heed"}),
                       doctest::Contains("their vocabularies differ"), Error);
}
