#pragma once
// The small layers a Transformer is built from. Each keeps, from its forward pass, what its
// backward pass needs (views of inputs the caller keeps alive, and buffers of its own), and
// each backward adds into its parameters' gradients.

#include <string>

#include "heed/backend/backend.h"
#include "heed/backend/buffer.h"
#include "heed/model/config.h"
#include "heed/model/parameters.h"

namespace heed {

// How attention computes over a whole sequence. `plain` holds the probabilities [B, H, T, S]
// (what readers of attention need, and the fastest for sentences); `tiled` never holds them
// (Backend::attention_forward: memory linear in the length, and with a window, time too);
// `automatic` tiles where some sequence has more than kTiledFromKeys keys.
enum class AttentionKernel : uint8_t { automatic, plain, tiled };
inline constexpr int64_t kTiledFromKeys = 256;

// Training or inference, the seed of this update's dropout masks, and the attention kernel.
// A batch split between processes (data-parallel training) runs as sequences
// [first_sequence, first_sequence + sequences) of the whole batch: each dropout mask is drawn as
// that part of the whole batch's mask, so the split changes no mask.
struct RunMode {
  bool training = false;
  uint64_t seed = 0;
  AttentionKernel attention = AttentionKernel::automatic;
  int64_t first_sequence = 0;
  int64_t sequences = 0;  // in this pass (the Transformer sets it); 0: unknown, no offset
};

// A stable number for a layer's name: dropout masks derive from (update seed, site), so that
// they do not depend on the order in which layers run. FNV-1a, fixed across builds.
uint64_t site_of(const std::string& name);

class Dropout {
 public:
  Dropout(float p, const std::string& name) : p_(p), site_(site_of(name)) {}
  // Returns x itself when inactive (inference, or p = 0), else a dropped-out copy.
  Tensor forward(Backend& be, const Tensor& x, const RunMode& mode);
  // Returns dy itself when the forward pass was inactive. The second form writes into `into`
  // rather than a buffer of its own (scratch a caller shares, see FeedForwardScratch).
  Tensor backward(Backend& be, const Tensor& dy);
  Tensor backward(Backend& be, const Tensor& dy, Buffer& into);
  // What forward() would draw its mask with in `mode`: the rate (0 when inactive) and the seed
  // (for ops that apply the same mask themselves, as tiled attention does).
  float rate(const RunMode& mode) const { return mode.training ? p_ : 0.0f; }
  uint64_t seed(const RunMode& mode) const;
  // Where a tensor of `numel` elements, sequence-major, starts in the whole batch's mask.
  static uint64_t first_index(const RunMode& mode, int64_t numel);

 private:
  float p_;
  uint64_t site_;
  uint64_t seed_ = 0;
  uint64_t first_ = 0;
  bool active_ = false;
  Buffer output_, grad_;
};

// y [..., out] = x [..., in] · W [in, out] + b
class Linear {
 public:
  Linear(ParameterSet& params, const std::string& name, int64_t in, int64_t out);
  void forward(Backend& be, const Tensor& x, const Tensor& y);
  void backward(Backend& be, const Tensor& dy, const Tensor& dx, Accumulate acc);
  int64_t in_dim() const { return weight_->shape[0]; }
  int64_t out_dim() const { return weight_->shape[1]; }

 private:
  Parameter* weight_;
  Parameter* bias_;
  Tensor input_;  // [rows, in], a view of the caller's tensor
};

class LayerNorm {
 public:
  LayerNorm(ParameterSet& params, const std::string& name, int64_t dim, float epsilon);
  void forward(Backend& be, const Tensor& x, const Tensor& y);
  void backward(Backend& be, const Tensor& dy, const Tensor& dx, Accumulate acc);

 private:
  Parameter* gamma_;
  Parameter* beta_;
  float epsilon_;
  Tensor input_;
  Tensor mean_, var_;  // [rows], views of the buffers
  Buffer mean_buffer_, var_buffer_;
};

// The gradients a feed-forward layer's backward pass passes between its steps, [rows, ffn] each:
// dead when it returns, so one model's layers (which run backward one at a time) share one set.
// Scratch that every layer of a model uses in turn: what one forward or backward call needs
// only while it runs (layers run one at a time), as opposed to what a layer keeps from its
// forward pass for its backward pass. Shared, it costs one layer's worth instead of every
// layer's. A Transformer owns one ModelScratch and hands each layer its part.
struct FeedForwardScratch {
  Buffer d_dropped, d_activated, d_hidden;
  Buffer hidden, activated;  // inference only: the forward's intermediates, which nothing keeps
};
struct AttentionScratch {
  Buffer projected_q, projected_k, projected_v;  // [B, L, D] before the head split (a step's q, k, v)
  Buffer scores, context_heads;                  // [B, H, T, S] before the softmax; [B, H, T, dh]
  Buffer d_context, d_context_heads, d_dropped, d_probs, d_vh, d_scores, d_qh, d_kh, d_flat;
};
struct SublayerScratch {
  Buffer output, d_dropped, d_normed;  // f's output before the residual; gradients
};
struct ModelScratch {
  FeedForwardScratch feed_forward;
  AttentionScratch attention;
  SublayerScratch sublayer;
  Buffer d_inner_a, d_inner_b;  // gradients between a layer's sublayers
};

// Position-wise feed-forward: y = W₂ · dropout(act(W₁ x + b₁)) + b₂
class FeedForward {
 public:
  FeedForward(ParameterSet& params, const std::string& name, const ModelConfig& config, FeedForwardScratch& scratch);
  void forward(Backend& be, const Tensor& x, const Tensor& y, const RunMode& mode);
  void backward(Backend& be, const Tensor& dy, const Tensor& dx, Accumulate acc);

 private:
  Activation activation_;
  Linear in_, out_;
  Dropout dropout_;
  Tensor dropped_;               // what out_ read
  Buffer hidden_, activated_;    // [rows, ffn], kept for backward
  FeedForwardScratch& scratch_;
};

// The sinusoidal position table [positions, dim] (ModelConfig::positions says which layout),
// computed once per shape and layout in the process and shared read-only.
Tensor sinusoidal_table(int64_t positions, int64_t dim, bool concatenated);

// Token embeddings (scaled by √D unless the config says not), plus positions (sinusoidal or
// learned), then dropout.
class Embedding {
 public:
  // table [V, D] may be shared with other embeddings or the output projection.
  Embedding(ParameterSet& params, const std::string& name, Parameter* table, const ModelConfig& config);
  // ids [B, T] (i32) at positions offset .. offset + T − 1 -> [B, T, D]
  Tensor forward(Backend& be, const Tensor& ids, int64_t offset, const RunMode& mode);
  // dy [B, T, D]: adds into the table's (and learned positions') gradients
  void backward(Backend& be, const Tensor& dy);

 private:
  Parameter* table_;
  Parameter* learned_positions_ = nullptr;  // [max_positions, D], or null when sinusoidal
  Tensor sinusoidal_;                       // [max_positions, D] on the host, or empty when learned
  Tensor sinusoidal_on_device_;             // its copy on a device backend's device, made at first use
  const Tensor& sinusoidal_on(Backend& be);  // the table on be's device
  float scale_;
  Dropout dropout_;
  Tensor ids_;
  int64_t offset_ = 0;
  Buffer output_, d_positions_;
};

}  // namespace heed
