#pragma once
// ModelConfig: everything that decides a model's shape and arithmetic. The CLI fills it; the
// model file stores it (as key = value text, readable by `heed info`); nothing below app/ reads
// a string-keyed option.

#include <cstdint>
#include <string>

#include "heed/backend/backend.h"
#include "heed/data/batch.h"

namespace heed {

// How a query scores a key (the literature's variants):
//   scaled_dot: q·k / √d (Vaswani et al. 2017)    dot: q·k (Luong et al. 2015)
//   additive:   vᵀ tanh(W_q q + W_k k)  (Bahdanau et al. 2014)
enum class AttentionScore : uint8_t { scaled_dot, dot, additive };
// Fixed sines and cosines (Vaswani et al. 2017) laid out as heed and the paper interleave them
// (sin, cos, sin, ...), or as Marian, fairseq and tensor2tensor concatenate them (all sines,
// then all cosines: what OPUS-MT's models were trained with); or a learned table.
enum class PositionEncoding : uint8_t { sinusoidal, learned, sinusoidal_concat };
enum class NormPlacement : uint8_t { pre, post };  // layer norm before each sublayer, or after the residual
// none; target embedding = output projection; source = target = output (needs a joint vocabulary)
enum class EmbeddingTying : uint8_t { none, target_output, all };

// Bounds on what a model config may declare (validate() enforces them): generous for any real
// model, but a file can never make heed allocate without limit.
inline constexpr int64_t kMaxVocabulary = 1 << 21;
inline constexpr int64_t kMaxModelDim = 1 << 14;
inline constexpr int64_t kMaxLayers = 256;
inline constexpr int64_t kMaxPositions = 1 << 16;
inline constexpr int64_t kMaxPositionTable = int64_t{1} << 26;  // max-positions × model-dim: 256 MB of f32

struct ModelConfig {
  int64_t source_vocab = 8000;
  int64_t target_vocab = 8000;
  int64_t model_dim = 256;
  int64_t heads = 4;
  int64_t ffn_dim = 1024;
  int64_t encoder_layers = 3;
  int64_t decoder_layers = 3;
  int64_t max_positions = 1024;  // the longest sequence, in pieces, the model accepts
  float dropout = 0.1f;            // on embeddings and every sublayer's output
  float attention_dropout = 0.1f;  // on attention probabilities
  float layer_norm_epsilon = 1e-5f;
  // Local attention (attention-window > 0): encoder and decoder self-attention see the keys at
  // most this many positions away (the decoder's only before); the first attention-global source
  // positions see and are seen by all (Longformer's global tokens). 0: full attention.
  int64_t attention_window = 0;
  int64_t attention_global = 0;
  Activation activation = Activation::relu;
  AttentionScore attention = AttentionScore::scaled_dot;
  PositionEncoding positions = PositionEncoding::sinusoidal;
  bool scale_embeddings = true;  // embeddings × √model-dim before the positions are added
  NormPlacement norm = NormPlacement::pre;
  EmbeddingTying tying = EmbeddingTying::all;
  bool joint_vocabulary = true;  // source and target share one SentencePiece model
  // The cross-attention head trained with guided alignment (guided_alignment.h), which `heed
  // align` reads by default; -1 for both when the model was trained without.
  int32_t alignment_layer = -1;
  int32_t alignment_head = -1;
  AlignmentStep alignment_step = AlignmentStep::predict;  // the step whose attention was guided
  // Special pieces, as heed's SentencePiece models number them.
  int32_t pad_id = 0;
  int32_t unk_id = 1;
  int32_t bos_id = 2;
  int32_t eos_id = 3;

  int64_t head_dim() const { return model_dim / heads; }
  bool has_alignment_head() const { return alignment_layer >= 0; }
  BatchLayout batch_layout() const { return {pad_id, bos_id, eos_id, alignment_step}; }
  // Throws heed::Error naming the first inconsistent setting.
  void validate() const;

  // "key = value" lines, one per field, in a fixed order; from_text() reads them back and
  // rejects unknown keys and malformed values.
  std::string to_text() const;
  static ModelConfig from_text(const std::string& text);
};

std::string to_string(AttentionScore v);
std::string to_string(PositionEncoding v);
std::string to_string(NormPlacement v);
std::string to_string(EmbeddingTying v);
std::string to_string(Activation v);
std::string to_string(AlignmentStep v);
AttentionScore parse_attention_score(const std::string& s);
PositionEncoding parse_position_encoding(const std::string& s);
NormPlacement parse_norm_placement(const std::string& s);
EmbeddingTying parse_embedding_tying(const std::string& s);
Activation parse_activation(const std::string& s);
AlignmentStep parse_alignment_step(const std::string& s);

}  // namespace heed
