#include "heed/model/config.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

#include "heed/core/error.h"

namespace heed {
namespace {

// One table per enum: the names users type and files store.
template <typename E>
struct EnumNames {
  std::initializer_list<std::pair<E, const char*>> names;
  const char* what;

  std::string name(E value) const {
    for (const auto& [v, n] : names)
      if (v == value) return n;
    return "?";
  }
  E parse(const std::string& s) const {
    std::string choices;
    for (const auto& [v, n] : names) {
      if (s == n) return v;
      choices += choices.empty() ? n : std::string(", ") + n;
    }
    fail("unknown {} '{}' (choose one of: {})", what, printable(s), choices);
  }
};

const EnumNames<AttentionScore> kAttentionNames{
    {{AttentionScore::scaled_dot, "scaled-dot"}, {AttentionScore::dot, "dot"}, {AttentionScore::additive, "additive"}},
    "attention"};
const EnumNames<PositionEncoding> kPositionNames{
    {{PositionEncoding::sinusoidal, "sinusoidal"}, {PositionEncoding::learned, "learned"},
     {PositionEncoding::sinusoidal_concat, "sinusoidal-concat"}},
    "position encoding"};
const EnumNames<NormPlacement> kNormNames{{{NormPlacement::pre, "pre"}, {NormPlacement::post, "post"}},
                                          "layer norm placement"};
const EnumNames<EmbeddingTying> kTyingNames{
    {{EmbeddingTying::none, "none"}, {EmbeddingTying::target_output, "target-output"}, {EmbeddingTying::all, "all"}},
    "embedding tying"};
const EnumNames<Activation> kActivationNames{{{Activation::relu, "relu"}, {Activation::gelu, "gelu"}, {Activation::swish, "swish"}}, "activation"};
const EnumNames<AlignmentStep> kAlignmentStepNames{
    {{AlignmentStep::predict, "predict"}, {AlignmentStep::shift, "shift"}}, "alignment step"};

template <typename T>
T parse_number(const std::string& key, const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  HEED_CHECK(ec == std::errc() && ptr == end, "model config: '{}' is not a valid value for {}", printable(text), key);
  return value;
}

}  // namespace

std::string to_string(AttentionScore v) { return kAttentionNames.name(v); }
std::string to_string(PositionEncoding v) { return kPositionNames.name(v); }
std::string to_string(NormPlacement v) { return kNormNames.name(v); }
std::string to_string(EmbeddingTying v) { return kTyingNames.name(v); }
std::string to_string(Activation v) { return kActivationNames.name(v); }
std::string to_string(AlignmentStep v) { return kAlignmentStepNames.name(v); }
AttentionScore parse_attention_score(const std::string& s) { return kAttentionNames.parse(s); }
PositionEncoding parse_position_encoding(const std::string& s) { return kPositionNames.parse(s); }
NormPlacement parse_norm_placement(const std::string& s) { return kNormNames.parse(s); }
EmbeddingTying parse_embedding_tying(const std::string& s) { return kTyingNames.parse(s); }
Activation parse_activation(const std::string& s) { return kActivationNames.parse(s); }
AlignmentStep parse_alignment_step(const std::string& s) { return kAlignmentStepNames.parse(s); }

void ModelConfig::validate() const {
  // Upper bounds far above any model heed can train or run, low enough that no config alone can
  // demand more memory than a machine has: a model file is input, and input is not trusted.
  const auto bounded = [](const char* key, int64_t value, int64_t low, int64_t high) {
    HEED_CHECK(value >= low && value <= high, "model config: {} = {} is out of range (allowed: {} to {})", key, value,
               low, high);
  };
  bounded("source-vocab", source_vocab, 1, kMaxVocabulary);
  bounded("target-vocab", target_vocab, 1, kMaxVocabulary);
  bounded("model-dim", model_dim, 1, kMaxModelDim);
  bounded("heads", heads, 1, kMaxModelDim);
  bounded("ffn-dim", ffn_dim, 1, 8 * kMaxModelDim);
  bounded("encoder-layers", encoder_layers, 1, kMaxLayers);
  bounded("decoder-layers", decoder_layers, 1, kMaxLayers);
  bounded("max-positions", max_positions, 2, kMaxPositions);
  HEED_CHECK(max_positions * model_dim <= kMaxPositionTable,
             "model config: max-positions {} × model-dim {} needs a position table of {} values, more than the {} "
             "allowed", max_positions, model_dim, max_positions * model_dim, kMaxPositionTable);
  HEED_CHECK(std::isfinite(dropout) && std::isfinite(attention_dropout) && std::isfinite(layer_norm_epsilon),
             "model config: dropout, attention-dropout and layer-norm-epsilon must be finite numbers");
  HEED_CHECK(layer_norm_epsilon <= 1.0f, "model config: layer-norm epsilon {} is out of range (0, 1]", layer_norm_epsilon);
  HEED_CHECK(source_vocab > 0 && target_vocab > 0, "model config: vocabulary sizes must be positive, got {} and {}",
             source_vocab, target_vocab);
  HEED_CHECK(model_dim > 0 && heads > 0 && model_dim % heads == 0,
             "model config: model-dim {} must be a positive multiple of heads {}", model_dim, heads);
  HEED_CHECK(ffn_dim > 0, "model config: ffn-dim must be positive, got {}", ffn_dim);
  HEED_CHECK(encoder_layers >= 1 && decoder_layers >= 1, "model config: needs at least one encoder and one decoder layer");
  HEED_CHECK(max_positions >= 2, "model config: max-positions must be at least 2, got {}", max_positions);
  HEED_CHECK(dropout >= 0 && dropout < 1 && attention_dropout >= 0 && attention_dropout < 1,
             "model config: dropout rates must be in [0, 1), got {} and {}", dropout, attention_dropout);
  HEED_CHECK(layer_norm_epsilon > 0, "model config: layer-norm epsilon must be positive");
  bounded("attention-window", attention_window, 0, kMaxPositions);
  bounded("attention-global", attention_global, 0, kMaxPositions);
  HEED_CHECK(attention_global == 0 || attention_window > 0,
             "model config: attention-global {} needs a window (attention-window > 0): with full attention every "
             "position is global", attention_global);
  HEED_CHECK(tying != EmbeddingTying::all || (joint_vocabulary && source_vocab == target_vocab),
             "model config: tying all embeddings needs one joint vocabulary, but the source has {} pieces and "
             "the target {}{}", source_vocab, target_vocab, joint_vocabulary ? "" : " (separate vocabularies)");
  HEED_CHECK((alignment_layer == -1 && alignment_head == -1) ||
                 (alignment_layer >= 0 && alignment_layer < decoder_layers && alignment_head >= 0 && alignment_head < heads),
             "model config: alignment head {} of decoder layer {} does not exist (the model has {} layers of {} heads)",
             alignment_head, alignment_layer, decoder_layers, heads);
  const int64_t smallest = std::min(source_vocab, target_vocab);
  for (int32_t id : {pad_id, unk_id, bos_id, eos_id})
    HEED_CHECK(id >= 0 && id < smallest, "model config: special piece id {} outside the vocabulary", id);
}

std::string ModelConfig::to_text() const {
  std::string s;
  const auto line = [&s](const char* key, const auto& value) { s += fmt::format("{} = {}\n", key, value); };
  line("source-vocab", source_vocab);
  line("target-vocab", target_vocab);
  line("model-dim", model_dim);
  line("heads", heads);
  line("ffn-dim", ffn_dim);
  line("encoder-layers", encoder_layers);
  line("decoder-layers", decoder_layers);
  line("max-positions", max_positions);
  line("dropout", dropout);
  line("attention-dropout", attention_dropout);
  line("layer-norm-epsilon", layer_norm_epsilon);
  line("activation", to_string(activation));
  line("attention", to_string(attention));
  line("positions", to_string(positions));
  line("norm", to_string(norm));
  line("tying", to_string(tying));
  line("joint-vocabulary", joint_vocabulary ? "true" : "false");
  line("pad-id", pad_id);
  line("unk-id", unk_id);
  line("bos-id", bos_id);
  line("eos-id", eos_id);
  if (!scale_embeddings) line("scale-embeddings", "false");  // only then, as below
  if (attention_window > 0) {  // only then, as the alignment head below
    line("attention-window", attention_window);
    line("attention-global", attention_global);
  }
  if (has_alignment_head()) {  // only then: files of models without one stay readable by older heeds
    line("alignment-layer", alignment_layer);
    line("alignment-head", alignment_head);
    if (alignment_step != AlignmentStep::predict) line("alignment-step", to_string(alignment_step));
  }
  return s;
}

ModelConfig ModelConfig::from_text(const std::string& text) {
  ModelConfig c;
  std::map<std::string, std::string> seen;
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    const size_t eq = line.find(" = ");
    HEED_CHECK(eq != std::string::npos, "model config line {}: expected 'key = value', got '{}'", line_number, printable(line));
    seen[line.substr(0, eq)] = line.substr(eq + 3);
  }
  const auto take = [&seen](const char* key) {
    const auto it = seen.find(key);
    HEED_CHECK(it != seen.end(), "model config: '{}' is missing", key);
    std::string value = it->second;
    seen.erase(it);
    return value;
  };
  c.source_vocab = parse_number<int64_t>("source-vocab", take("source-vocab"));
  c.target_vocab = parse_number<int64_t>("target-vocab", take("target-vocab"));
  c.model_dim = parse_number<int64_t>("model-dim", take("model-dim"));
  c.heads = parse_number<int64_t>("heads", take("heads"));
  c.ffn_dim = parse_number<int64_t>("ffn-dim", take("ffn-dim"));
  c.encoder_layers = parse_number<int64_t>("encoder-layers", take("encoder-layers"));
  c.decoder_layers = parse_number<int64_t>("decoder-layers", take("decoder-layers"));
  c.max_positions = parse_number<int64_t>("max-positions", take("max-positions"));
  c.dropout = parse_number<float>("dropout", take("dropout"));
  c.attention_dropout = parse_number<float>("attention-dropout", take("attention-dropout"));
  c.layer_norm_epsilon = parse_number<float>("layer-norm-epsilon", take("layer-norm-epsilon"));
  c.activation = parse_activation(take("activation"));
  c.attention = parse_attention_score(take("attention"));
  c.positions = parse_position_encoding(take("positions"));
  c.norm = parse_norm_placement(take("norm"));
  c.tying = parse_embedding_tying(take("tying"));
  const std::string joint = take("joint-vocabulary");
  HEED_CHECK(joint == "true" || joint == "false", "model config: joint-vocabulary must be true or false, got '{}'", printable(joint));
  c.joint_vocabulary = joint == "true";
  c.pad_id = parse_number<int32_t>("pad-id", take("pad-id"));
  c.unk_id = parse_number<int32_t>("unk-id", take("unk-id"));
  c.bos_id = parse_number<int32_t>("bos-id", take("bos-id"));
  c.eos_id = parse_number<int32_t>("eos-id", take("eos-id"));
  if (seen.count("scale-embeddings")) {
    const std::string scale = take("scale-embeddings");
    HEED_CHECK(scale == "true" || scale == "false", "model config: scale-embeddings must be true or false, got '{}'",
               printable(scale));
    c.scale_embeddings = scale == "true";
  }
  if (seen.count("attention-window") || seen.count("attention-global")) {
    c.attention_window = parse_number<int64_t>("attention-window", take("attention-window"));
    c.attention_global = parse_number<int64_t>("attention-global", take("attention-global"));
  }
  if (seen.count("alignment-layer") || seen.count("alignment-head")) {
    c.alignment_layer = parse_number<int32_t>("alignment-layer", take("alignment-layer"));
    c.alignment_head = parse_number<int32_t>("alignment-head", take("alignment-head"));
    if (seen.count("alignment-step")) c.alignment_step = parse_alignment_step(take("alignment-step"));
  }
  HEED_CHECK(seen.empty(), "model config: unknown key '{}' (written by a newer heed?)", printable(seen.begin()->first));
  c.validate();
  return c;
}

}  // namespace heed
