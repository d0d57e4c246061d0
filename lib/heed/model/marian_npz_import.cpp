#include "heed/model/marian_npz_import.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/npz.h"
#include "heed/model/marian_import.h"

namespace heed {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigArray = "special:model.yml";

int64_t integer_or(const YamlMap& yml, const std::string& key, int64_t otherwise, const std::string& what) {
  const std::string text = yml.scalar_or(key, "");
  if (text.empty()) return otherwise;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  HEED_CHECK(error == std::errc() && end == text.data() + text.size(), "{}: {} is '{}', not a whole number", what, key,
             text);
  return value;
}

int64_t integer(const YamlMap& yml, const std::string& key, const std::string& what) {
  HEED_CHECK(yml.find(key) != nullptr, "{}: '{}' is missing", what, key);
  return integer_or(yml, key, 0, what);
}

bool boolean_or(const YamlMap& yml, const std::string& key, bool otherwise, const std::string& what) {
  const std::string text = yml.scalar_or(key, "");
  if (text.empty()) return otherwise;
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  fail("{}: {} is '{}', neither true nor false", what, key, text);
}

// A field that must have the value heed computes with (or be absent, where Marian's default is that value).
void require(const YamlMap& yml, const std::string& key, const std::string& value, const std::string& what,
             const char* meaning) {
  const std::string actual = yml.scalar_or(key, value);
  HEED_CHECK(actual == value, "{}: {} is '{}': heed computes only '{}' ({})", what, key, actual, value, meaning);
}

std::string config_text(const Npz& npz, const std::string& what) {
  const Npz::Array* a = npz.find(kConfigArray);
  HEED_CHECK(a != nullptr, "{}: no {} array, so not a Marian model (Marian stores its configuration there)", what,
             kConfigArray);
  std::string text = a->data;
  while (!text.empty() && text.back() == '\0') text.pop_back();  // Marian writes a C string
  return text;
}

// The release's vocabulary: piece → id lines, ids 0 .. n-1 each once.
std::vector<std::string> vocabulary_pieces(const std::string& path) {
  const YamlMap vocab = YamlMap::parse(read_file(path), path);
  std::vector<std::string> pieces(vocab.entries().size());
  for (const auto& [piece, value] : vocab.entries()) {
    HEED_CHECK(!value.is_list, "{}: '{}' has a list where an id was expected", path, piece);
    int64_t id = -1;
    const auto [end, error] = std::from_chars(value.scalar.data(), value.scalar.data() + value.scalar.size(), id);
    HEED_CHECK(error == std::errc() && end == value.scalar.data() + value.scalar.size() && id >= 0 &&
                   id < static_cast<int64_t>(pieces.size()) && pieces[static_cast<size_t>(id)].empty(),
               "{}: the id '{}' of '{}' is not a number below {} given once", path, value.scalar, piece, pieces.size());
    pieces[static_cast<size_t>(id)] = piece;
  }
  return pieces;
}

int32_t id_of(const std::vector<std::string>& pieces, const std::string& piece, const std::string& what) {
  for (size_t i = 0; i < pieces.size(); ++i)
    if (pieces[i] == piece) return static_cast<int32_t>(i);
  fail("{}: the vocabulary has no {}", what, piece);
}

}  // namespace

ModelConfig marian_npz_config(const YamlMap& yml, int64_t pieces, const std::string& what) {
  require(yml, "type", "transformer", what, "a Transformer");
  require(yml, "transformer-preprocess", "", what, "no layer norm before a sublayer");
  require(yml, "transformer-postprocess", "dan", what, "dropout, residual, then layer norm after each sublayer");
  require(yml, "transformer-postprocess-emb", "d", what, "no layer norm on the embeddings");
  require(yml, "transformer-decoder-autoreg", "self-attention", what, "self-attention in the decoder");
  require(yml, "transformer-ffn-depth", "2", what, "two linear layers in a feed-forward block");
  require(yml, "transformer-train-position-embeddings", "false", what, "sinusoidal positions");
  require(yml, "transformer-no-projection", "false", what, "an output projection in attention");
  require(yml, "right-left", "false", what, "left-to-right decoding");
  HEED_CHECK(yml.list("transformer-tied-layers").empty(), "{}: transformer-tied-layers is set: heed does not share "
             "weights between layers", what);
  const int64_t decoder_ffn_depth = integer_or(yml, "transformer-decoder-ffn-depth", 0, what);
  HEED_CHECK(decoder_ffn_depth == 0 || decoder_ffn_depth == 2, "{}: transformer-decoder-ffn-depth is {}: heed "
             "computes two linear layers in a feed-forward block", what, decoder_ffn_depth);
  ModelConfig c;
  c.model_dim = integer(yml, "dim-emb", what);
  c.heads = integer(yml, "transformer-heads", what);
  c.ffn_dim = integer(yml, "transformer-dim-ffn", what);
  const int64_t decoder_ffn = integer_or(yml, "transformer-decoder-dim-ffn", 0, what);
  HEED_CHECK(decoder_ffn == 0 || decoder_ffn == c.ffn_dim, "{}: transformer-decoder-dim-ffn {} differs from "
             "transformer-dim-ffn {}: heed's encoder and decoder share one value", what, decoder_ffn, c.ffn_dim);
  c.encoder_layers = integer(yml, "enc-depth", what);
  c.decoder_layers = integer(yml, "dec-depth", what);
  const std::string activation = yml.scalar_or("transformer-ffn-activation", "swish");
  if (activation == "swish") c.activation = Activation::swish;
  else if (activation == "relu") c.activation = Activation::relu;
  else fail("{}: transformer-ffn-activation is '{}': heed computes Marian's swish and relu (Marian's gelu is "
            "x·σ(1.702x), not the GELU heed computes; its Hugging Face conversion runs as transformers computes it)",
            what, activation);
  HEED_CHECK(boolean_or(yml, "tied-embeddings-all", false, what) || boolean_or(yml, "tied-embeddings-src", false, what),
             "{}: neither tied-embeddings-all nor tied-embeddings-src is true: heed converts models whose source and "
             "target share one embedding matrix (Wemb)", what);
  const std::vector<std::string> vocabs = yml.list("dim-vocabs");
  HEED_CHECK(vocabs.size() == 2 && vocabs[0] == vocabs[1] && vocabs[0] == std::to_string(pieces),
             "{}: dim-vocabs is [{}]: heed converts models with one joint vocabulary, here of {} pieces", what,
             fmt::join(vocabs, ", "), pieces);
  c.source_vocab = c.target_vocab = pieces + 1;  // and <pad>, whose zero embedding starts the decoder
  c.norm = NormPlacement::post;
  c.positions = PositionEncoding::sinusoidal_concat;
  c.scale_embeddings = true;  // Marian's sinusoidal models always scale
  c.tying = EmbeddingTying::all;
  c.joint_vocabulary = true;
  c.dropout = c.attention_dropout = 0.0f;
  c.layer_norm_epsilon = 1e-6f;  // Marian's transformer layers
  c.max_positions = 1000;  // no learned table bounds the sinusoids: marian-decoder's default limit
  // Guided alignment trains head 0 of one cross-attention at the step that predicts the word.
  const std::string guided = yml.scalar_or("guided-alignment", "none");
  if (!guided.empty() && guided != "none") {
    const std::string layer = yml.scalar_or("transformer-guided-alignment-layer", "last");
    c.alignment_layer = static_cast<int32_t>(layer == "last" ? c.decoder_layers - 1
                                                             : integer(yml, "transformer-guided-alignment-layer", what) - 1);
    c.alignment_head = 0;
    c.alignment_step = AlignmentStep::predict;
  }
  c.validate();
  return c;
}

LoadedModel import_marian_npz_folder(const std::string& folder) {
  const std::string decoder_path = (fs::path(folder) / "decoder.yml").string();
  const YamlMap decoder = YamlMap::parse(read_file(decoder_path), decoder_path);
  const std::vector<std::string> models = decoder.list("models"), vocabs = decoder.list("vocabs");
  HEED_CHECK(models.size() == 1, "{}: 'models' names {} files: heed converts one model (convert each of an ensemble "
             "and pass them all to heed translate -m)", decoder_path, models.size());
  HEED_CHECK(vocabs.size() == 2 && vocabs[0] == vocabs[1], "{}: 'vocabs' must name one vocabulary twice (a joint "
             "vocabulary); separate source and target vocabularies are not supported", decoder_path);
  const std::string npz_path = (fs::path(folder) / models[0]).string();
  const std::string vocab_path = (fs::path(folder) / vocabs[0]).string();

  std::vector<std::string> pieces = vocabulary_pieces(vocab_path);
  const int64_t size = static_cast<int64_t>(pieces.size());
  const Npz npz = Npz::read(npz_path);
  const std::string what = npz_path + ": " + kConfigArray;
  ModelConfig config = marian_npz_config(YamlMap::parse(config_text(npz, npz_path), what), size, what);
  config.eos_id = id_of(pieces, "</s>", vocab_path);
  config.unk_id = id_of(pieces, "<unk>", vocab_path);
  config.pad_id = config.bos_id = static_cast<int32_t>(size);
  config.max_positions = integer_or(decoder, "max-length", config.max_positions, decoder_path);
  config.validate();
  pieces.push_back("<pad>");

  LoadedModel loaded;
  loaded.model = std::make_unique<Transformer>(config);
  ParameterSet& params = loaded.model->parameters();
  std::set<std::string> used{kConfigArray};
  // Every Marian matrix is [in, out] and every vector [1, n], as heed holds them (vectors flat).
  const auto put = [&](const std::string& theirs, const std::string& ours) {
    Parameter* p = params.find(ours);
    HEED_CHECK(p != nullptr, "internal: heed's model has no parameter {}", ours);
    const Tensor from = npz.f32(theirs);
    const bool same = from.shape() == p->value.shape() ||
                      (p->value.shape().rank() == 1 && from.shape() == Shape({1, p->value.shape()[0]}));
    HEED_CHECK(same, "{}: {} has shape {} where {} was expected", npz_path, theirs, from.shape().str(),
               p->value.shape().str());
    std::copy_n(from.f32(), from.numel(), p->value.f32());
    used.insert(theirs);
  };
  // The embeddings and the output bias have no row for <pad>: zero, as the decoder's start.
  const auto put_with_pad_row = [&](const std::string& theirs, const std::string& ours, int64_t row_size) {
    const Tensor from = npz.f32(theirs);
    Parameter* p = params.find(ours);
    HEED_CHECK(from.numel() == size * row_size, "{}: {} has shape {} where {} rows of {} were expected", npz_path,
               theirs, from.shape().str(), size, row_size);
    p->value.zero();
    std::copy_n(from.f32(), from.numel(), p->value.f32());
    used.insert(theirs);
  };
  put_with_pad_row("Wemb", "embeddings.target", config.model_dim);
  put_with_pad_row("decoder_ff_logit_out_b", "output.bias", 1);
  const auto attention = [&](const std::string& theirs, const std::string& ours) {
    for (const char* part : {"q", "k", "v", "o"}) {
      put(theirs + "_W" + part, ours + "." + part + ".weight");
      put(theirs + "_b" + part, ours + "." + part + ".bias");
    }
    put(theirs + "_Wo_ln_scale", ours + ".norm.gamma");
    put(theirs + "_Wo_ln_bias", ours + ".norm.beta");
  };
  const auto feed_forward = [&](const std::string& theirs, const std::string& ours) {
    put(theirs + "_ffn_W1", ours + ".ffn.in.weight");
    put(theirs + "_ffn_b1", ours + ".ffn.in.bias");
    put(theirs + "_ffn_W2", ours + ".ffn.out.weight");
    put(theirs + "_ffn_b2", ours + ".ffn.out.bias");
    put(theirs + "_ffn_ffn_ln_scale", ours + ".ffn.norm.gamma");
    put(theirs + "_ffn_ffn_ln_bias", ours + ".ffn.norm.beta");
  };
  for (int64_t i = 0; i < config.encoder_layers; ++i) {
    const std::string theirs = fmt::format("encoder_l{}", i + 1), ours = fmt::format("encoder.{}", i);
    attention(theirs + "_self", ours + ".self_attn");
    feed_forward(theirs, ours);
  }
  for (int64_t i = 0; i < config.decoder_layers; ++i) {
    const std::string theirs = fmt::format("decoder_l{}", i + 1), ours = fmt::format("decoder.{}", i);
    attention(theirs + "_self", ours + ".self_attn");
    attention(theirs + "_context", ours + ".cross_attn");
    feed_forward(theirs, ours);
  }
  for (const Npz::Array& a : npz.arrays())
    HEED_CHECK(used.contains(a.name), "{}: the array {} has no place in the model heed builds from its model.yml "
               "(a layer or option heed does not compute)", npz_path, a.name);
  HEED_CHECK(used.size() == params.all().size() + 1, "internal: {} of the model's {} parameters were read from {}",
             used.size() - 1, params.all().size(), npz_path);

  add_renumbered_vocabularies(folder, pieces, config, loaded.extras);
  // Marian ranks hypotheses by log p / length^normalize (marian-decoder's default 0), the length
  // counting </s>, as heed does.
  const std::string normalize = decoder.scalar_or("normalize", "0");
  loaded.extras.metadata = fmt::format("converted-from=marian {}\ntranslate-normalize={}\n",
                                       fs::path(npz_path).filename().string(), normalize);
  return loaded;
}

}  // namespace heed
