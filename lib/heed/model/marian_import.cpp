#include "heed/model/marian_import.h"

#include <fmt/format.h>

#include <filesystem>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/json.h"
#include "heed/core/safetensors.h"
#include "heed/text/renumbered_pieces.h"

namespace heed {
namespace {

int64_t integer(const Json& config, const std::string& what, const char* key) {
  const Json* value = config.find(key);
  HEED_CHECK(value != nullptr, "{}: '{}' is missing", what, key);
  return value->integer(what + ": " + key);
}

bool boolean_or(const Json& config, const std::string& what, const char* key, bool otherwise) {
  const Json* value = config.find(key);
  return value == nullptr || value->is_null() ? otherwise : value->boolean(what + ": " + key);
}

// `name` [out, in] as transformers stores a Linear's weight -> [in, out], as heed's Linear holds it.
void copy_transposed(const Tensor& from, const Tensor& to, const std::string& name) {
  HEED_CHECK(from.shape().rank() == 2 && to.shape() == Shape({from.shape()[1], from.shape()[0]}),
             "{}: shape {} where {} transposed was expected", name, from.shape().str(), to.shape().str());
  const int64_t rows = from.shape()[0], cols = from.shape()[1];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) to.f32()[c * rows + r] = from.f32()[r * cols + c];
}

void copy_same(const Tensor& from, const Tensor& to, const std::string& name) {
  HEED_CHECK(from.numel() == to.numel(), "{}: {} values where {} were expected", name, from.numel(), to.numel());
  std::copy_n(from.f32(), from.numel(), to.f32());
}

}  // namespace

ModelConfig marian_config(const std::string& config_json, const std::string& what) {
  const Json config = Json::parse(config_json, what);
  config.object(what);
  const Json* type = config.find("model_type");
  HEED_CHECK(type != nullptr && type->is_string() && type->string(what) == "marian",
             "{}: model_type must be \"marian\" (a MarianMTModel); heed converts no other kind", what);
  const auto same = [&](const char* encoder_key, const char* decoder_key) {
    const int64_t e = integer(config, what, encoder_key), d = integer(config, what, decoder_key);
    HEED_CHECK(e == d, "{}: {} is {} but {} is {}: heed's encoder and decoder share one value", what, encoder_key, e,
               decoder_key, d);
    return e;
  };
  ModelConfig c;
  c.source_vocab = c.target_vocab = integer(config, what, "vocab_size");
  if (const Json* decoder_vocab = config.find("decoder_vocab_size"); decoder_vocab && !decoder_vocab->is_null())
    HEED_CHECK(decoder_vocab->integer(what) == c.source_vocab,
               "{}: decoder_vocab_size {} differs from vocab_size {}: separate vocabularies are not supported", what,
               decoder_vocab->integer(what), c.source_vocab);
  HEED_CHECK(boolean_or(config, what, "share_encoder_decoder_embeddings", true),
             "{}: share_encoder_decoder_embeddings is false: separate embeddings are not supported", what);
  HEED_CHECK(boolean_or(config, what, "tie_word_embeddings", true),
             "{}: tie_word_embeddings is false: an output layer apart from the embeddings is not supported", what);
  c.model_dim = integer(config, what, "d_model");
  c.heads = same("encoder_attention_heads", "decoder_attention_heads");
  c.ffn_dim = same("encoder_ffn_dim", "decoder_ffn_dim");
  c.encoder_layers = integer(config, what, "encoder_layers");
  c.decoder_layers = integer(config, what, "decoder_layers");
  c.max_positions = integer(config, what, "max_position_embeddings");
  const Json* activation = config.find("activation_function");
  const std::string act = activation ? activation->string(what + ": activation_function") : "gelu";
  if (act == "relu") c.activation = Activation::relu;
  else if (act == "gelu") c.activation = Activation::gelu;
  else if (act == "swish" || act == "silu") c.activation = Activation::swish;
  else fail("{}: activation_function \"{}\" is not supported (relu, gelu, swish or silu)", what, act);
  HEED_CHECK(!boolean_or(config, what, "normalize_before", false), "{}: normalize_before is not supported", what);
  c.norm = NormPlacement::post;  // Marian's layers: x = LayerNorm(x + sublayer(x)), no final norm
  c.positions = PositionEncoding::sinusoidal_concat;
  c.scale_embeddings = boolean_or(config, what, "scale_embedding", false);
  c.tying = EmbeddingTying::all;
  c.joint_vocabulary = true;
  c.dropout = c.attention_dropout = 0.0f;
  c.layer_norm_epsilon = 1e-5f;  // transformers' nn.LayerNorm default, which Marian's layers use
  c.pad_id = static_cast<int32_t>(integer(config, what, "pad_token_id"));
  c.eos_id = static_cast<int32_t>(integer(config, what, "eos_token_id"));
  c.bos_id = static_cast<int32_t>(integer(config, what, "decoder_start_token_id"));
  c.unk_id = 1;  // Marian's vocabularies put <unk> at 1
  c.validate();
  return c;
}

std::unique_ptr<Transformer> import_marian(const std::string& folder) {
  namespace fs = std::filesystem;
  const std::string config_path = (fs::path(folder) / "config.json").string();
  const std::string weights_path = (fs::path(folder) / "model.safetensors").string();
  HEED_CHECK(fs::exists(weights_path) || !fs::exists(fs::path(folder) / "pytorch_model.bin"),
             "{} has pytorch_model.bin, a Python pickle, which heed does not read: save the model as model.safetensors "
             "(model.save_pretrained(dir, safe_serialization=True)) and convert that", folder);
  auto model = std::make_unique<Transformer>(marian_config(read_file(config_path), config_path));
  const SafeTensors weights = SafeTensors::read(weights_path);
  ParameterSet& params = model->parameters();
  size_t written = 0;
  const auto put = [&](const std::string& theirs, const std::string& ours, bool transposed) {
    Parameter* p = params.find(ours);
    HEED_CHECK(p != nullptr, "internal: heed's model has no parameter {}", ours);
    ++written;
    const Tensor from = weights.f32(theirs);
    if (transposed) copy_transposed(from, p->value, weights_path + ": " + theirs);
    else copy_same(from, p->value, weights_path + ": " + theirs);
  };
  put("model.shared.weight", "embeddings.target", false);
  if (weights.find("final_logits_bias")) {
    put("final_logits_bias", "output.bias", false);
  } else {
    params.find("output.bias")->value.zero();
    ++written;
  }
  const auto attention = [&](const std::string& theirs, const std::string& ours) {
    for (const char* part : {"q", "k", "v"}) {
      put(theirs + "." + part + "_proj.weight", ours + "." + part + ".weight", true);
      put(theirs + "." + part + "_proj.bias", ours + "." + part + ".bias", false);
    }
    put(theirs + ".out_proj.weight", ours + ".o.weight", true);
    put(theirs + ".out_proj.bias", ours + ".o.bias", false);
  };
  const auto norm = [&](const std::string& theirs, const std::string& ours) {
    put(theirs + ".weight", ours + ".gamma", false);
    put(theirs + ".bias", ours + ".beta", false);
  };
  const auto feed_forward = [&](const std::string& theirs, const std::string& ours) {
    put(theirs + ".fc1.weight", ours + ".ffn.in.weight", true);
    put(theirs + ".fc1.bias", ours + ".ffn.in.bias", false);
    put(theirs + ".fc2.weight", ours + ".ffn.out.weight", true);
    put(theirs + ".fc2.bias", ours + ".ffn.out.bias", false);
    norm(theirs + ".final_layer_norm", ours + ".ffn.norm");
  };
  const ModelConfig& c = model->config();
  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    const std::string theirs = "model.encoder.layers." + std::to_string(i), ours = "encoder." + std::to_string(i);
    attention(theirs + ".self_attn", ours + ".self_attn");
    norm(theirs + ".self_attn_layer_norm", ours + ".self_attn.norm");
    feed_forward(theirs, ours);
  }
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    const std::string theirs = "model.decoder.layers." + std::to_string(i), ours = "decoder." + std::to_string(i);
    attention(theirs + ".self_attn", ours + ".self_attn");
    norm(theirs + ".self_attn_layer_norm", ours + ".self_attn.norm");
    attention(theirs + ".encoder_attn", ours + ".cross_attn");
    norm(theirs + ".encoder_attn_layer_norm", ours + ".cross_attn.norm");
    feed_forward(theirs, ours);
  }
  HEED_CHECK(written == params.all().size(), "internal: {} of the model's {} parameters were read from {}", written,
             params.all().size(), weights_path);
  return model;
}

void add_renumbered_vocabularies(const std::string& folder, const std::vector<std::string>& pieces,
                                 const ModelConfig& config, ModelExtras& extras) {
  namespace fs = std::filesystem;
  const RenumberedIds ids{.unk = config.unk_id, .eos = config.eos_id, .pad = config.pad_id};
  for (const char* side : {"source", "target"}) {
    const std::string path = (fs::path(folder) / (std::string(side) + ".spm")).string();
    extras.vocabularies.push_back({side, renumber_pieces(read_file(path), pieces, ids, path)});
  }
}

LoadedModel import_marian_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  LoadedModel loaded;
  loaded.model = import_marian(folder);
  const ModelConfig& c = loaded.model->config();
  const std::string vocab_path = (fs::path(folder) / "vocab.json").string();
  const Json vocab = Json::parse(read_file(vocab_path), vocab_path);
  std::vector<std::string> pieces(static_cast<size_t>(c.target_vocab));
  for (const auto& [piece, id_value] : vocab.object(vocab_path)) {
    const int64_t id = id_value.integer(vocab_path + ": " + piece);
    HEED_CHECK(id >= 0 && id < c.target_vocab && pieces[static_cast<size_t>(id)].empty(),
               "{}: id {} of '{}' is outside the model's {} ids or given twice", vocab_path, id, piece, c.target_vocab);
    pieces[static_cast<size_t>(id)] = piece;
  }
  for (size_t id = 0; id < pieces.size(); ++id)
    HEED_CHECK(!pieces[id].empty(), "{}: no piece has id {} (the model has {} ids)", vocab_path, id, pieces.size());
  add_renumbered_vocabularies(folder, pieces, c, loaded.extras);
  loaded.extras.metadata = fmt::format(
      "converted-from=huggingface marian {}\ntranslate-normalize=1\ntranslate-beam-scoring=transformers\n",
      fs::path(folder).filename().string());
  return loaded;
}

}  // namespace heed
