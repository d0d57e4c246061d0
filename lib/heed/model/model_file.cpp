#include "heed/model/model_file.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/half.h"
#include "heed/model/int8_storage.h"
#include "heed/text/vocabulary.h"

namespace heed {
namespace {

constexpr std::string_view kMagic = "HEEDMODL";
constexpr std::string_view kKind = "heed model";

struct StoredTensor {
  DType dtype;
  Shape shape;
  std::string_view data{};
  // i8 only: one f32 scale per output channel, the channels along dimension channel_axis
  std::string_view scales{};
  int channel_axis = 1;
};

// The fewest parameters a config can declare (embeddings and attention/FFN weights), to refuse
// a config that could not have produced this file before allocating anything for it.
double parameter_lower_bound(const ModelConfig& c) {
  const double d = static_cast<double>(c.model_dim), f = static_cast<double>(c.ffn_dim);
  return static_cast<double>(c.target_vocab) * d + static_cast<double>(c.encoder_layers) * (4 * d * d + 2 * d * f) +
         static_cast<double>(c.decoder_layers) * (8 * d * d + 2 * d * f);
}

std::string hex(uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace

uint64_t model_checksum(std::string_view bytes) { return fnv1a64(bytes); }

std::string serialize_model(const Transformer& model, const ModelExtras& extras, StoredPrecision precision) {
  // Format 2 added int8 tensors; a file without them stays format 1, readable by older heeds.
  ContainerWriter w(kMagic, precision == StoredPrecision::int8 ? 2 : 1);
  w.put_text32(model.config().to_text());
  w.put_text32(extras.metadata);
  w.put(static_cast<uint32_t>(extras.vocabularies.size()));
  for (const NamedBlob& v : extras.vocabularies) {
    w.put_text32(v.name);
    w.put_bytes64(v.bytes);
  }
  HEED_CHECK(model.parameters().values().device() == Device::cpu,
             "a model is saved from the host: download the values of a model on {} first",
             device_name(model.parameters().values().device()));
  const auto& parameters = model.parameters().all();
  w.put(static_cast<uint32_t>(parameters.size()));
  for (const Parameter& p : parameters) {
    HEED_CHECK(p.value.defined(), "a model prepared for translation, whose f32 weights were given back, cannot be saved ({})", p.name);
    w.put_text32(p.name);
    // int8 files quantise what matmuls read, per output channel; the rest (biases, layer norms,
    // an embedding only looked up) is stored as f16.
    const bool as_int8 = precision == StoredPrecision::int8 && p.matmul_use != MatmulUse::none;
    const DType dtype = as_int8 ? DType::i8 : precision == StoredPrecision::f32 ? DType::f32 : DType::f16;
    w.put(static_cast<uint8_t>(dtype));
    w.put(static_cast<uint8_t>(p.shape.rank()));
    for (int64_t d : p.shape) w.put(d);
    if (as_int8) {
      const int channel_axis = p.matmul_use == MatmulUse::transposed_weight ? 0 : 1;
      const Int8Weight q = quantize_channels(p.value.f32(), p.shape, channel_axis);
      w.put(static_cast<uint8_t>(channel_axis));
      w.put_bytes64(std::string_view(reinterpret_cast<const char*>(q.codes.data()), q.codes.size()));
      w.put_bytes64(std::string_view(reinterpret_cast<const char*>(q.scales.data()), q.scales.size() * sizeof(float)));
    } else if (dtype == DType::f16) {
      const float* values = p.value.f32();
      const int64_t count = p.value.numel();
      std::string half(static_cast<size_t>(count) * sizeof(uint16_t), '\0');
      for (int64_t i = 0; i < count; ++i) {
        const uint16_t h = float_to_half(values[i]);
        std::memcpy(half.data() + i * 2, &h, sizeof h);
      }
      w.put_bytes64(half);
    } else {
      w.put_bytes64(std::string_view(static_cast<const char*>(p.value.raw()), p.value.bytes()));
    }
  }
  return w.finish();
}

void save_model(const std::string& path, const Transformer& model, const ModelExtras& extras, StoredPrecision precision) {
  write_file_atomically(path, serialize_model(model, extras, precision));
}

namespace {

// The sections after the envelope, bounds-checked (parse_model checks the envelope).
LoadedModel parse_sections(ContainerReader& r, std::string_view bytes, const std::string& what,
                           const std::function<void(std::string_view)>& done_with, Int8Tensors int8) {
  LoadedModel loaded;
  loaded.format_version = r.version();
  loaded.file_bytes = static_cast<int64_t>(bytes.size());
  ModelConfig config;
  try {
    config = ModelConfig::from_text(std::string(r.text32("config")));
  } catch (const Error& e) {
    throw e.with_context(what);
  }
  loaded.extras.metadata = std::string(r.text32("metadata"));
  const uint32_t vocabularies = r.get<uint32_t>("vocabulary count");
  for (uint32_t i = 0; i < vocabularies; ++i) {
    NamedBlob blob;
    blob.name = std::string(r.text32("vocabulary name"));
    HEED_CHECK(blob.name == "joint" || blob.name == "source" || blob.name == "target",
               "{} is malformed: a vocabulary named '{}' (expected joint, source or target)", what, printable(blob.name));
    blob.bytes = std::string(r.bytes64("vocabulary"));
    loaded.extras.vocabularies.push_back(std::move(blob));
  }
  std::map<std::string, StoredTensor, std::less<>> tensors;
  uint64_t tensor_bytes = 0;
  const uint32_t count = r.get<uint32_t>("tensor count");
  for (uint32_t i = 0; i < count; ++i) {
    const std::string name(r.text32("tensor name"));
    const uint8_t dtype = r.get<uint8_t>("tensor dtype");
    const uint8_t rank = r.get<uint8_t>("tensor rank");
    HEED_CHECK(dtype == static_cast<uint8_t>(DType::f32) || dtype == static_cast<uint8_t>(DType::f16) ||
                   (dtype == static_cast<uint8_t>(DType::i8) && r.version() >= 2),
               "{}: tensor {} has dtype {}; this heed reads f32, f16 and (from format 2) i8", what, printable(name), dtype);
    const DType stored = static_cast<DType>(dtype);
    HEED_CHECK(rank >= 1 && rank <= Shape::kMaxRank, "{} is malformed: tensor {} has rank {}", what, printable(name), rank);
    HEED_CHECK(stored != DType::i8 || rank == 2, "{} is malformed: int8 tensor {} has rank {} (int8 weights are matrices)",
               what, printable(name), rank);
    Shape shape;
    for (uint8_t d = 0; d < rank; ++d) {
      const int64_t dim = r.get<int64_t>("tensor dims");
      HEED_CHECK(dim >= 0 && dim <= (int64_t{1} << 32), "{} is malformed: tensor {} has dimension {}", what, printable(name), dim);
      shape.push_back(dim);
    }
    StoredTensor tensor{.dtype = stored, .shape = shape};
    if (stored == DType::i8) {
      const uint8_t axis = r.get<uint8_t>("channel axis");
      HEED_CHECK(axis <= 1, "{} is malformed: int8 tensor {} has its scales along dimension {}", what, printable(name), axis);
      tensor.channel_axis = axis;
    }
    tensor.data = r.bytes64("tensor data");
    HEED_CHECK(static_cast<double>(tensor.data.size()) == static_cast<double>(shape.numel()) * static_cast<double>(dtype_size(stored)),
               "{} is malformed: tensor {} {} holds {} bytes", what, printable(name), shape.str(), tensor.data.size());
    if (stored == DType::i8) {
      tensor.scales = r.bytes64("tensor scales");
      const int64_t channels = shape[tensor.channel_axis];
      HEED_CHECK(static_cast<double>(tensor.scales.size()) == static_cast<double>(channels) * sizeof(float),
                 "{} is malformed: int8 tensor {} {} has {} bytes of scales for {} channels", what, printable(name),
                 shape.str(), tensor.scales.size(), channels);
      for (int64_t ch = 0; ch < channels; ++ch) {
        float scale;
        std::memcpy(&scale, tensor.scales.data() + ch * sizeof(float), sizeof scale);
        HEED_CHECK(std::isfinite(scale) && scale > 0.0f, "{} is malformed: int8 tensor {} has scale {} for channel {}",
                   what, printable(name), scale, ch);
      }
    }
    HEED_CHECK(tensors.emplace(name, tensor).second, "{} is malformed: tensor {} appears twice", what, printable(name));
    tensor_bytes += static_cast<uint64_t>(shape.numel()) * 4;  // as loaded
  }
  r.expect_end();

  // 4. Does the config describe these tensors and vocabularies?
  HEED_CHECK(parameter_lower_bound(config) * 4.0 <= static_cast<double>(tensor_bytes),
             "{}: its config declares more parameters than the file holds ({} bytes of tensors)", what, tensor_bytes);
  for (NamedBlob& blob : loaded.extras.vocabularies) {
    blob.loaded = std::make_shared<Vocabulary>(Vocabulary::from_serialized(blob.bytes, what + "'s " + blob.name + " vocabulary"));
    const Vocabulary& vocabulary = *blob.loaded;
    const int64_t expected = blob.name == "source" ? config.source_vocab : config.target_vocab;
    HEED_CHECK(vocabulary.size() == expected, "{}: the {} vocabulary has {} pieces, the model expects {}", what,
               blob.name, vocabulary.size(), expected);
  }

  loaded.model = std::make_unique<Transformer>(config);
  for (const Parameter& p : loaded.model->parameters().all()) {
    const auto it = tensors.find(p.name);
    HEED_CHECK(it != tensors.end(), "{}: parameter {} is missing", what, p.name);
    HEED_CHECK(it->second.shape == p.shape, "{}: parameter {} has shape {}, the config needs {}", what, p.name,
               it->second.shape.str(), p.shape.str());
    const StoredTensor& t = it->second;
    if (t.dtype == DType::f16) {
      if (loaded.precision == StoredPrecision::f32) loaded.precision = StoredPrecision::f16;
      halves_to_floats(t.data.data(), p.value.numel(), p.value.f32());
    } else if (t.dtype == DType::i8) {
      loaded.precision = StoredPrecision::int8;
      Tensor steps = Tensor::empty(Shape{static_cast<int64_t>(t.scales.size() / sizeof(float))});
      std::memcpy(steps.raw(), t.scales.data(), t.scales.size());
      const int read_axis = p.matmul_use == MatmulUse::transposed_weight ? 0 : 1;
      if (int8 == Int8Tensors::as_codes && p.matmul_use != MatmulUse::none && t.channel_axis == read_axis) {
        Tensor codes = Tensor::empty(t.shape, DType::i8);
        std::memcpy(codes.raw(), t.data.data(), t.data.size());
        loaded.model->parameters().keep_int8_codes(p.name, std::move(codes), std::move(steps));
      } else {
        dequantize_channels(reinterpret_cast<const int8_t*>(t.data.data()), steps.f32(), t.shape, t.channel_axis, p.value.f32());
      }
    } else {
      std::memcpy(p.value.raw(), t.data.data(), t.data.size());
    }
    if (done_with) {
      done_with(t.data);
      done_with(t.scales);
    }
    tensors.erase(it);
  }
  HEED_CHECK(tensors.empty(), "{}: holds a tensor {} that this model does not have", what, printable(tensors.begin()->first));
  return loaded;
}

}  // namespace

LoadedModel parse_model(std::string_view bytes, const std::string& what,
                        const std::function<void(std::string_view)>& done_with, Int8Tensors int8) {
  // The checksum runs beside the parse, which bounds-checks every read and so is safe on a
  // damaged file; the result is handed out only once the checksum matched. A part given back by
  // one of them and read by the other is read again from the file.
  ContainerReader r(bytes, what, kMagic, kKind, kModelFormatVersion, ContainerReader::Checksum::on_verify, done_with);
  LoadedModel loaded;
  try {
    loaded = parse_sections(r, bytes, what, done_with, int8);
  } catch (...) {
    r.verify();  // a damaged file is reported as corrupted, not by what its damage broke
    throw;
  }
  loaded.checksum = r.checksum();
  return loaded;
}

std::optional<std::string> metadata_value(const std::string& metadata, std::string_view key) {
  size_t start = 0;
  while (start < metadata.size()) {
    size_t end = metadata.find('\n', start);
    if (end == std::string::npos) end = metadata.size();
    const std::string_view line(metadata.data() + start, end - start);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '=')
      return std::string(line.substr(key.size() + 1));
    start = end + 1;
  }
  return std::nullopt;
}

std::string with_metadata_value(const std::string& metadata, std::string_view key, std::string_view value) {
  std::string out;
  size_t start = 0;
  while (start < metadata.size()) {
    size_t end = metadata.find('\n', start);
    if (end == std::string::npos) end = metadata.size();
    const std::string_view line(metadata.data() + start, end - start);
    if (!(line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == '='))
      out.append(line).push_back('\n');
    start = end + 1;
  }
  return out.append(key).append("=").append(value).append("\n");
}

Precision model_precision(const ModelExtras& extras, const std::string& what) {
  const auto value = metadata_value(extras.metadata, "translate-precision");
  return value ? parse_precision(*value, what + "'s metadata") : Precision::f32;
}

std::optional<float> model_length_normalization(const ModelExtras& extras, const std::string& what) {
  const auto text = metadata_value(extras.metadata, "translate-normalize");
  if (!text) return std::nullopt;
  float alpha = 0.0f;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), alpha);
  HEED_CHECK(ec == std::errc() && end == text->data() + text->size() && alpha >= 0.0f && alpha <= 10.0f,
             "{}'s metadata: translate-normalize must be a number from 0 to 10, got '{}'", what, *text);
  return alpha;
}

namespace {

std::optional<double> positive_metadata_number(const ModelExtras& extras, std::string_view key, const std::string& what) {
  const auto text = metadata_value(extras.metadata, key);
  if (!text) return std::nullopt;
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  HEED_CHECK(ec == std::errc() && end == text->data() + text->size() && value > 0.0 && value < 1e6,
             "{}'s metadata: {} must be a positive number, got '{}'", what, key, *text);
  return value;
}

}  // namespace

std::optional<double> model_source_pieces_per_word(const ModelExtras& extras, const std::string& what) {
  return positive_metadata_number(extras, kSourcePiecesPerWordKey, what);
}

std::optional<double> model_source_pieces_per_sentence(const ModelExtras& extras, const std::string& what) {
  return positive_metadata_number(extras, kSourcePiecesPerSentenceKey, what);
}

std::string with_source_text_figures(const std::string& metadata, int64_t pieces, int64_t words, int64_t sentences) {
  std::string out = metadata;
  if (words > 0)
    out = with_metadata_value(out, kSourcePiecesPerWordKey, fmt::format("{:.3f}", static_cast<double>(pieces) / static_cast<double>(words)));
  if (sentences > 0)
    out = with_metadata_value(out, kSourcePiecesPerSentenceKey,
                              fmt::format("{:.2f}", static_cast<double>(pieces) / static_cast<double>(sentences)));
  return out;
}

std::string model_metadata(std::string_view bytes, const std::string& what) {
  ContainerReader r(bytes, what, kMagic, kKind, kModelFormatVersion);
  r.text32("config");
  return std::string(r.text32("metadata"));
}

ModelVocabularies vocabularies_of(const ModelExtras& extras, const std::string& what) {
  ModelVocabularies v;
  for (const NamedBlob& blob : extras.vocabularies) {
    auto vocabulary = blob.loaded ? blob.loaded
                                  : std::make_shared<Vocabulary>(Vocabulary::from_serialized(blob.bytes, what + "'s " + blob.name + " vocabulary"));
    if (blob.name == "joint") v.source = v.target = vocabulary;
    if (blob.name == "source") v.source = vocabulary;
    if (blob.name == "target") v.target = vocabulary;
  }
  HEED_CHECK(v.source && v.target, "{} holds no SentencePiece vocabulary, so it cannot turn text into pieces", what);
  return v;
}

LoadedModel load_model(const std::string& path, Int8Tensors int8) {
  const MappedFile file(path);
  return parse_model(file.bytes(), path, [&file](std::string_view part) { file.release(part); }, int8);
}

std::string describe_model(const LoadedModel& loaded) {
  const ModelConfig& c = loaded.model->config();
  std::string s;
  s += fmt::format("format        heed model, format {}\n", loaded.format_version);
  s += fmt::format("checksum      {} (FNV-1a 64)\n", hex(loaded.checksum));
  s += fmt::format("file size     {} bytes, weights stored as {}\n", loaded.file_bytes,
                   loaded.precision == StoredPrecision::int8  ? "int8 (matmul weights, a scale per output channel; the rest f16)"
                   : loaded.precision == StoredPrecision::f16 ? "f16"
                                                              : "f32");
  s += fmt::format("parameters    {}\n", loaded.model->parameters().count());
  s += fmt::format("vocabulary    source {} pieces, target {} pieces{}\n", c.source_vocab, c.target_vocab,
                   c.joint_vocabulary ? " (joint)" : "");
  for (const NamedBlob& v : loaded.extras.vocabularies)
    s += fmt::format("sentencepiece {} ({} bytes)\n", v.name, v.bytes.size());
  s += "\n[config]\n" + c.to_text();
  if (!loaded.extras.metadata.empty()) s += "\n[metadata]\n" + loaded.extras.metadata;
  return s;
}

}  // namespace heed
