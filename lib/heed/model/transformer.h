#pragma once
// The Transformer encoder-decoder (Vaswani et al. 2017): embeddings and positions, N encoder
// layers, M decoder layers, and the output projection; its loss and its backward pass. Decoding
// step by step is incremental_decoder.h's.

#include <functional>
#include <memory>
#include <vector>

#include "heed/data/batch.h"
#include "heed/model/attention.h"
#include "heed/model/sublayer.h"

namespace heed {

class EncoderLayer {
 public:
  EncoderLayer(ParameterSet& params, const std::string& name, const ModelConfig& config, ModelScratch& scratch);
  void forward(Backend& be, const Tensor& x, const VisibleKeys& keys, const Tensor& y, const RunMode& mode);
  void backward(Backend& be, const Tensor& dy, const Tensor& dx);
  const MultiHeadAttention& self_attention() const { return self_attention_; }

 private:
  MultiHeadAttention self_attention_;
  FeedForward feed_forward_;
  Sublayer attention_block_, feed_forward_block_;
  Buffer middle_;
  ModelScratch& scratch_;
};

// Per-layer caches of one batch being decoded step by step.
struct DecoderLayerCache {
  AttentionCache self;   // grows by one position per step
  AttentionCache cross;  // the encoder output, projected once
};

class DecoderLayer {
 public:
  DecoderLayer(ParameterSet& params, const std::string& name, const ModelConfig& config, ModelScratch& scratch);
  // Self-attention is causal (and local, with a window); cross-attention sees the memory keys
  // `memory_keys` says.
  void forward(Backend& be, const Tensor& x, const Tensor& memory, const VisibleKeys& memory_keys, const Tensor& y,
               const RunMode& mode);
  // d_memory always accumulates: every decoder layer reads the encoder output. `cross_extra`: a
  // gradient for the cross-attention's probabilities (guided alignment), if this layer has one.
  void backward(Backend& be, const Tensor& dy, const Tensor& dx, const Tensor& d_memory,
                const ProbabilityGradient& cross_extra = {});
  void start(Backend& be, const Tensor& memory, int64_t capacity, DecoderLayerCache& cache);
  void reserve_capacity(Backend& be, int64_t rows, int64_t capacity, DecoderLayerCache& cache) {
    self_attention_.reserve_self_capacity(be, rows, capacity, cache.self);
  }
  void step(Backend& be, const Tensor& x, DecoderLayerCache& cache, const VisibleKeys& memory_keys, const Tensor& y);
  const MultiHeadAttention& self_attention() const { return self_attention_; }
  const MultiHeadAttention& cross_attention() const { return cross_attention_; }

 private:
  MultiHeadAttention self_attention_, cross_attention_;
  FeedForward feed_forward_;
  Sublayer self_block_, cross_block_, feed_forward_block_;
  Buffer after_self_, after_cross_;
  int64_t window_;  // self-attention's (ModelConfig::attention_window; 0: causal only)
  ModelScratch& scratch_;
};

// What a training forward_loss leaves for backward, unscaled (backward scales it). The output
// layer's gradients are taken chunk by chunk while each chunk's logits exist: three [rows ×
// vocabulary] tensors (logits, log-probabilities, their gradient) would be most of training's
// memory. Views of the model's buffers, valid until its next forward_loss.
struct LossGradients {
  Tensor d_hidden;        // [rows, D]: the loss's gradient at the decoder's output
  Tensor d_output_table;  // [V, D]
  Tensor d_output_bias;   // [V]
  // The guided alignment term's, for the alignment head's probabilities [B, T, S]; undefined
  // without one.
  Tensor d_alignment;
};

// Tag of the constructor that makes a second model over another's weights.
struct SharedWeights {};

class Transformer {
 public:
  explicit Transformer(const ModelConfig& config);
  // A model that reads the weights of `weights` (never copying them) and owns only its own
  // activations and decoding caches: each translation worker has one. It cannot train.
  Transformer(const Transformer& weights, SharedWeights);
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  const ModelConfig& config() const { return config_; }
  ParameterSet& parameters() { return params_; }
  const ParameterSet& parameters() const { return params_; }

  // Token ids and links may be host tensors: the model moves them to the backend's device.

  // logits [B, T, V] for target_in given source (teacher forcing).
  Tensor forward(Backend& be, const Tensor& source, const Tensor& target_in, const RunMode& mode);
  // forward() without the output layer, for readers of the attention probabilities.
  void forward_attention(Backend& be, const Tensor& source, const Tensor& target_in);
  // forward() and the label-smoothed cross-entropy against target_out, padding ignored, plus the
  // guided alignment term when the batch carries links (LossSums::alignment, included in loss).
  // With `gradients`, also what backward() starts from.
  LossSums forward_loss(Backend& be, const Batch& batch, float label_smoothing, const RunMode& mode,
                        LossGradients* gradients = nullptr);
  // From forward_loss's gradients: adds grad_scale · dLoss/dθ into every parameter's gradient, the
  // output layer's first. `ready`, if given, is told each range [begin, end) of the gradient arena
  // as soon as it is final (a layer's parameters, the top layers first; the embedding tables,
  // written last, are never announced), so that summing it across processes can start while
  // backward goes on. On a device backend the range's kernels may still be queued.
  using GradientsReady = std::function<void(int64_t begin, int64_t end)>;
  void backward(Backend& be, const LossGradients& loss, float grad_scale, const GradientsReady& ready = {});
  // The ranges backward announces, in its order.
  std::vector<std::pair<int64_t, int64_t>> gradient_ranges() const;

  // Attention probabilities [B, H, T, S] of the last forward pass or step.
  const Tensor& cross_attention(int layer) const { return decoder_[layer]->cross_attention().probabilities(); }
  const Tensor& decoder_self_attention(int layer) const { return decoder_[layer]->self_attention().probabilities(); }
  const Tensor& encoder_self_attention(int layer) const { return encoder_[layer]->self_attention().probabilities(); }

 private:
  friend class IncrementalDecoder;  // its steps run this model's layers over their caches
  static constexpr int64_t kLossChunkRows = 512;  // rows of logits the loss holds at once

  void declare();  // the layers and their parameters, as config_ says
  // The names (prefixes) of the parameter groups backward finishes one after another, top first.
  std::vector<std::string> backward_order() const;
  // The encoder and the decoder stacks, up to decoder_hidden_ (the output layer's input).
  void run_decoder(Backend& be, const Tensor& source, const Tensor& target_in, const RunMode& mode);
  Tensor encode(Backend& be, const Tensor& source, const RunMode& mode);
  void project_output(Backend& be, const Tensor& hidden, const Tensor& logits);
  // The first step of backward: the output layer's parameter gradients, scaled, and the gradient
  // at the decoder's output (after its final norm) as a tensor to run down the decoder.
  Tensor output_layer_backward(Backend& be, const LossGradients& loss, float grad_scale);

  ModelConfig config_;
  ParameterSet params_;
  Parameter* source_table_;
  Parameter* target_table_;
  Parameter* output_table_;  // [V, D]: logits = h · tableᵀ + bias
  Parameter* output_bias_;
  ModelScratch scratch_;  // every layer's, one at a time
  std::unique_ptr<Embedding> source_embedding_, target_embedding_;
  std::vector<std::unique_ptr<EncoderLayer>> encoder_;
  std::vector<std::unique_ptr<DecoderLayer>> decoder_;
  std::unique_ptr<LayerNorm> encoder_norm_, decoder_norm_;  // pre-norm only: the stacks' final norms

  // Activations of the last forward pass, kept for backward.
  std::vector<Buffer> encoder_states_, decoder_states_;  // inputs/outputs of each layer
  Buffer source_lengths_, memory_, decoder_out_, logits_, log_probs_;
  Tensor source_lengths_view_, memory_view_, decoder_hidden_;
  Tensor encoder_top_, decoder_top_;  // the stacks' last layer outputs (before the final norms)
  // Where forward_loss puts the LossGradients it hands out.
  Buffer d_hidden_out_, d_table_out_, d_bias_out_, d_alignment_;
  // Host inputs on their way to the backend's device (unused on a CPU backend).
  struct Staging {
    Tensor source, target_in, target_out, links, probs, gradient;
  } staging_;
  Buffer d_a_, d_b_, d_memory_, d_memory_top_;
};

}  // namespace heed
