#include "heed/model/transformer.h"

#include <numeric>

#include "heed/backend/matmul_backward.h"
#include "heed/core/error.h"
#include "heed/model/guided_alignment.h"

namespace heed {

// ---- Encoder layer ----

EncoderLayer::EncoderLayer(ParameterSet& params, const std::string& name, const ModelConfig& config,
                           ModelScratch& scratch)
    : self_attention_(params, name + ".self_attn", config, scratch.attention),
      feed_forward_(params, name + ".ffn", config, scratch.feed_forward),
      attention_block_(params, name + ".self_attn", config, scratch.sublayer),
      feed_forward_block_(params, name + ".ffn", config, scratch.sublayer),
      scratch_(scratch) {}

void EncoderLayer::forward(Backend& be, const Tensor& x, const VisibleKeys& keys, const Tensor& y, const RunMode& mode) {
  const Tensor middle = middle_.view(be, x.shape());
  attention_block_.forward(be, x, middle, mode, [&](const Tensor& in, const Tensor& out) {
    self_attention_.forward(be, in, in, keys, out, mode);
  });
  feed_forward_block_.forward(be, middle, y, mode, [&](const Tensor& in, const Tensor& out) {
    feed_forward_.forward(be, in, out, mode);
  });
}

void EncoderLayer::backward(Backend& be, const Tensor& dy, const Tensor& dx) {
  const Tensor d_middle = scratch_.d_inner_a.view(be, dy.shape());
  feed_forward_block_.backward(be, dy, d_middle, Accumulate::no, [&](const Tensor& d_out, const Tensor& d_in, Accumulate acc) {
    feed_forward_.backward(be, d_out, d_in, acc);
  });
  attention_block_.backward(be, d_middle, dx, Accumulate::no, [&](const Tensor& d_out, const Tensor& d_in, Accumulate acc) {
    self_attention_.backward(be, d_out, d_in, acc, d_in, Accumulate::yes);
  });
}

// ---- Decoder layer ----

DecoderLayer::DecoderLayer(ParameterSet& params, const std::string& name, const ModelConfig& config,
                           ModelScratch& scratch)
    : self_attention_(params, name + ".self_attn", config, scratch.attention),
      cross_attention_(params, name + ".cross_attn", config, scratch.attention),
      feed_forward_(params, name + ".ffn", config, scratch.feed_forward),
      self_block_(params, name + ".self_attn", config, scratch.sublayer),
      cross_block_(params, name + ".cross_attn", config, scratch.sublayer),
      feed_forward_block_(params, name + ".ffn", config, scratch.sublayer),
      window_(config.attention_window),
      scratch_(scratch) {}

void DecoderLayer::forward(Backend& be, const Tensor& x, const Tensor& memory, const VisibleKeys& memory_keys,
                           const Tensor& y, const RunMode& mode) {
  const Tensor after_self = after_self_.view(be, x.shape());
  const Tensor after_cross = after_cross_.view(be, x.shape());
  // Target sequences are right-padded, so causality alone keeps every real position from seeing
  // padding: position t sees only 0..t, all real when t is. Padded positions see padding, but
  // the loss ignores their outputs.
  self_block_.forward(be, x, after_self, mode, [&](const Tensor& in, const Tensor& out) {
    self_attention_.forward(be, in, in, VisibleKeys{.causal = true, .window = window_}, out, mode);
  });
  cross_block_.forward(be, after_self, after_cross, mode, [&](const Tensor& in, const Tensor& out) {
    cross_attention_.forward(be, in, memory, memory_keys, out, mode);
  });
  feed_forward_block_.forward(be, after_cross, y, mode, [&](const Tensor& in, const Tensor& out) {
    feed_forward_.forward(be, in, out, mode);
  });
}

void DecoderLayer::backward(Backend& be, const Tensor& dy, const Tensor& dx, const Tensor& d_memory,
                            const ProbabilityGradient& cross_extra) {
  const Tensor d_after_cross = scratch_.d_inner_a.view(be, dy.shape());
  const Tensor d_after_self = scratch_.d_inner_b.view(be, dy.shape());
  feed_forward_block_.backward(be, dy, d_after_cross, Accumulate::no, [&](const Tensor& d_out, const Tensor& d_in, Accumulate acc) {
    feed_forward_.backward(be, d_out, d_in, acc);
  });
  cross_block_.backward(be, d_after_cross, d_after_self, Accumulate::no, [&](const Tensor& d_out, const Tensor& d_in, Accumulate acc) {
    cross_attention_.backward(be, d_out, d_in, acc, d_memory, Accumulate::yes, cross_extra);
  });
  self_block_.backward(be, d_after_self, dx, Accumulate::no, [&](const Tensor& d_out, const Tensor& d_in, Accumulate acc) {
    self_attention_.backward(be, d_out, d_in, acc, d_in, Accumulate::yes);
  });
}

void DecoderLayer::start(Backend& be, const Tensor& memory, int64_t capacity, DecoderLayerCache& cache) {
  self_attention_.start_cache(be, memory.shape()[0], capacity, cache.self);
  cross_attention_.project_memory(be, memory, cache.cross);
}

void DecoderLayer::step(Backend& be, const Tensor& x, DecoderLayerCache& cache, const VisibleKeys& memory_keys,
                        const Tensor& y) {
  const RunMode inference;
  const Tensor after_self = after_self_.view(be, x.shape());
  const Tensor after_cross = after_cross_.view(be, x.shape());
  self_block_.forward(be, x, after_self, inference, [&](const Tensor& in, const Tensor& out) {
    self_attention_.step_self(be, in, cache.self, window_, out);
  });
  cross_block_.forward(be, after_self, after_cross, inference, [&](const Tensor& in, const Tensor& out) {
    cross_attention_.step_cross(be, in, cache.cross, memory_keys, out);
  });
  feed_forward_block_.forward(be, after_cross, y, inference, [&](const Tensor& in, const Tensor& out) {
    feed_forward_.forward(be, in, out, inference);
  });
}

// ---- The model ----

Transformer::Transformer(const ModelConfig& config) : config_(config) {
  declare();
  params_.allocate();
}

Transformer::Transformer(const Transformer& weights, SharedWeights) : config_(weights.config_) {
  declare();
  params_.share_values_of(weights.params_);
}

void Transformer::declare() {
  config_.validate();
  const int64_t dim = config_.model_dim;
  target_table_ = params_.add("embeddings.target", Shape{config_.target_vocab, dim}, Init::embedding);
  source_table_ = config_.tying == EmbeddingTying::all
                      ? target_table_
                      : params_.add("embeddings.source", Shape{config_.source_vocab, dim}, Init::embedding);
  output_table_ = config_.tying == EmbeddingTying::none
                      ? params_.add("output.weight", Shape{config_.target_vocab, dim}, Init::xavier_uniform)
                      : target_table_;
  output_table_->matmul_use = MatmulUse::transposed_weight;
  output_bias_ = params_.add("output.bias", Shape{config_.target_vocab}, Init::zeros);
  source_embedding_ = std::make_unique<Embedding>(params_, "encoder.embedding", source_table_, config_);
  target_embedding_ = std::make_unique<Embedding>(params_, "decoder.embedding", target_table_, config_);
  for (int64_t i = 0; i < config_.encoder_layers; ++i)
    encoder_.push_back(
        std::make_unique<EncoderLayer>(params_, "encoder." + std::to_string(i), config_, scratch_));
  for (int64_t i = 0; i < config_.decoder_layers; ++i)
    decoder_.push_back(
        std::make_unique<DecoderLayer>(params_, "decoder." + std::to_string(i), config_, scratch_));
  if (config_.norm == NormPlacement::pre) {
    // Pre-norm stacks end un-normalised; a final norm gives the next stage unit-scale input.
    encoder_norm_ = std::make_unique<LayerNorm>(params_, "encoder.norm", dim, config_.layer_norm_epsilon);
    decoder_norm_ = std::make_unique<LayerNorm>(params_, "decoder.norm", dim, config_.layer_norm_epsilon);
  }
  encoder_states_.resize(encoder_.size());
  decoder_states_.resize(decoder_.size());
}

Tensor Transformer::encode(Backend& be, const Tensor& host_source, const RunMode& mode) {
  HEED_CHECK(host_source.dtype() == DType::i32 && host_source.shape().rank() == 2,
             "encoder: source must be i32 [B, S], got {}", host_source.describe());
  const Tensor source = be.to_device(host_source, staging_.source);
  source_lengths_view_ = source_lengths_.view(be, Shape{source.shape()[0]}, DType::i32);
  be.sequence_lengths(source, config_.pad_id, source_lengths_view_);
  const VisibleKeys encoder_keys{
      .lengths = &source_lengths_view_, .window = config_.attention_window, .global = config_.attention_global};

  Tensor x = source_embedding_->forward(be, source, 0, mode);
  for (size_t i = 0; i < encoder_.size(); ++i) {
    const Tensor y = encoder_states_[i].view(be, x.shape());
    encoder_[i]->forward(be, x, encoder_keys, y, mode);
    x = y;
  }
  encoder_top_ = x;
  if (encoder_norm_) {
    memory_view_ = memory_.view(be, x.shape());
    encoder_norm_->forward(be, x, memory_view_);
  } else {
    memory_view_ = x;
  }
  return memory_view_;
}

void Transformer::project_output(Backend& be, const Tensor& hidden, const Tensor& logits) {
  const Tensor h = hidden.reshape(Shape{hidden.shape().rows(), config_.model_dim});
  const Tensor l = logits.reshape(Shape{logits.shape().rows(), config_.target_vocab});
  if (output_table_->prepared)
    be.matmul(h, *output_table_->prepared, &output_bias_->value, l);
  else
    be.matmul(h, output_table_->value, l, {.transpose_b = true, .bias = &output_bias_->value});
}

void Transformer::run_decoder(Backend& be, const Tensor& source, const Tensor& host_target_in, const RunMode& given) {
  HEED_CHECK(host_target_in.dtype() == DType::i32 && host_target_in.shape().rank() == 2 &&
                 host_target_in.shape()[0] == source.shape()[0],
             "decoder: target must be i32 [B, T] with the source's batch size, got {} for source {}",
             host_target_in.describe(), source.describe());
  RunMode mode = given;
  mode.sequences = source.shape()[0];  // where each dropout mask starts (RunMode::first_sequence)
  const Tensor memory = encode(be, source, mode);
  const Tensor target_in = be.to_device(host_target_in, staging_.target_in);
  const VisibleKeys unpadded{.lengths = &source_lengths_view_};
  Tensor x = target_embedding_->forward(be, target_in, 0, mode);
  for (size_t i = 0; i < decoder_.size(); ++i) {
    const Tensor y = decoder_states_[i].view(be, x.shape());
    decoder_[i]->forward(be, x, memory, unpadded, y, mode);
    x = y;
  }
  decoder_top_ = x;
  if (decoder_norm_) {
    decoder_hidden_ = decoder_out_.view(be, x.shape());
    decoder_norm_->forward(be, x, decoder_hidden_);
  } else {
    decoder_hidden_ = x;
  }
}

void Transformer::forward_attention(Backend& be, const Tensor& source, const Tensor& target_in) {
  run_decoder(be, source, target_in, RunMode{.attention = AttentionKernel::plain});
}

Tensor Transformer::forward(Backend& be, const Tensor& source, const Tensor& target_in, const RunMode& mode) {
  run_decoder(be, source, target_in, mode);
  const Tensor logits = logits_.view(be, Shape{target_in.shape()[0], target_in.shape()[1], config_.target_vocab});
  project_output(be, decoder_hidden_, logits);
  return logits;
}

LossSums Transformer::forward_loss(Backend& be, const Batch& batch, float label_smoothing, const RunMode& mode,
                                   LossGradients* gradients) {
  HEED_CHECK(batch.target_out.shape() == batch.target_in.shape(),
             "batch: target_out {} differs from target_in {}", batch.target_out.shape().str(),
             batch.target_in.shape().str());
  // Guided alignment reads the cross-attention's probabilities, which only the plain kernel holds.
  RunMode run = mode;
  if (batch.alignment.shape().rank() > 0) run.attention = AttentionKernel::plain;
  run_decoder(be, batch.source, batch.target_in, run);
  const int64_t rows = batch.target_out.numel(), vocab = config_.target_vocab, dim = config_.model_dim;
  const Tensor hidden = decoder_hidden_.reshape(Shape{rows, dim});
  const Tensor targets = be.to_device(batch.target_out, staging_.target_out).reshape(Shape{rows});
  const CrossEntropyOptions loss_options{.label_smoothing = label_smoothing, .ignore_id = config_.pad_id};
  // The output layer and its loss, a chunk of rows at a time (LossGradients): with `gradients`,
  // each chunk's gradient is taken at once, so that nothing of the chunk outlives it.
  if (gradients != nullptr) {
    *gradients = LossGradients{.d_hidden = d_hidden_out_.view(be, Shape{rows, dim}),
                               .d_output_table = d_table_out_.zeros(be, output_table_->value.shape()),
                               .d_output_bias = d_bias_out_.zeros(be, output_bias_->value.shape()),
                               .d_alignment = {}};
  }
  LossSums sums;
  for (int64_t begin = 0; begin < rows; begin += kLossChunkRows) {
    const int64_t end = std::min(rows, begin + kLossChunkRows);
    const Tensor h = hidden.slice_rows(begin, end);
    const Tensor logits = logits_.view(be, Shape{end - begin, vocab}), log_probs = log_probs_.view(be, logits.shape());
    project_output(be, h, logits);
    const LossSums part = be.cross_entropy_forward(logits, targets.slice_rows(begin, end), loss_options, log_probs);
    sums.loss += part.loss;
    sums.nll += part.nll;
    sums.tokens += part.tokens;
    if (gradients == nullptr) continue;
    be.cross_entropy_backward(log_probs, targets.slice_rows(begin, end), loss_options, 1.0f, logits, Accumulate::no);
    const Tensor d_h = gradients->d_hidden.slice_rows(begin, end);
    matmul_backward(be, h, output_table_->value, logits, {.transpose_b = true},
                    {.da = &d_h, .db = &gradients->d_output_table, .dbias = &gradients->d_output_bias});
  }
  if (batch.alignment.shape().rank() > 0) {
    HEED_CHECK(config_.alignment_layer >= 0 && config_.alignment_head >= 0,
               "guided alignment needs a model with an alignment layer and head (--alignment-layer, --alignment-head)");
    // A host computation over one head's probabilities: small beside the step (B·T·S values).
    const Tensor probs = be.to_host(cross_attention(config_.alignment_layer), staging_.probs);
    const Tensor links = be.to_host(batch.alignment, staging_.links);
    const Tensor d_alignment = d_alignment_.view(be, links.shape());
    const Tensor gradient = be.to_host(d_alignment, staging_.gradient);  // itself on a CPU backend
    const GuidedAlignmentLoss guided =
        guided_alignment_forward(probs, config_.alignment_head, links, batch.alignment_weight, gradient);
    if (gradient.raw() != d_alignment.raw()) be.upload(gradient, d_alignment);
    if (gradients != nullptr) gradients->d_alignment = d_alignment;
    sums.alignment = guided.loss;
    sums.aligned_rows = guided.aligned_rows;
    sums.loss += guided.loss;
  }
  return sums;
}

std::vector<std::string> Transformer::backward_order() const {
  std::vector<std::string> order;
  if (decoder_norm_) order.push_back("decoder.norm.");
  for (size_t i = decoder_.size(); i-- > 0;) order.push_back("decoder." + std::to_string(i) + ".");
  if (encoder_norm_) order.push_back("encoder.norm.");
  for (size_t i = encoder_.size(); i-- > 0;) order.push_back("encoder." + std::to_string(i) + ".");
  return order;
}

std::vector<std::pair<int64_t, int64_t>> Transformer::gradient_ranges() const {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const std::string& prefix : backward_order()) ranges.push_back(params_.arena_range(prefix));
  return ranges;
}

Tensor Transformer::output_layer_backward(Backend& be, const LossGradients& loss, float grad_scale) {
  be.axpy(grad_scale, loss.d_output_table, output_table_->grad);
  be.axpy(grad_scale, loss.d_output_bias, output_bias_->grad);
  const Tensor dy = d_a_.zeros(be, decoder_hidden_.shape());
  be.axpy(grad_scale, loss.d_hidden.reshape(dy.shape()), dy);
  return dy;
}

void Transformer::backward(Backend& be, const LossGradients& loss, float grad_scale, const GradientsReady& ready) {
  const auto announce = [&](const std::string& prefix) {
    if (!ready) return;
    const auto [begin, end] = params_.arena_range(prefix);
    ready(begin, end);
  };
  HEED_CHECK(params_.has_grads(), "Transformer::backward: no gradients to add into (call parameters().zero_grads() first)");
  HEED_CHECK(loss.d_hidden.defined() && loss.d_hidden.numel() == decoder_hidden_.numel(),
             "Transformer::backward: no gradients of the last forward_loss (pass it a LossGradients)");
  // Two buffers take turns holding the gradient flowing down a stack (d_a_ first).
  Buffer* turns[2] = {&d_a_, &d_b_};
  int current = 0;
  Tensor dy = output_layer_backward(be, loss, grad_scale);
  if (decoder_norm_) {
    const Tensor d_top = d_b_.view(be, decoder_top_.shape());
    decoder_norm_->backward(be, dy, d_top, Accumulate::no);
    dy = d_top;
    current = 1;
    announce("decoder.norm.");
  }

  // The guided alignment term reaches the alignment head's probabilities directly.
  const ProbabilityGradient alignment{.d = loss.d_alignment.defined() ? &loss.d_alignment : nullptr,
                                      .head = config_.alignment_head, .scale = grad_scale};
  const Tensor d_memory = d_memory_.zeros(be, memory_view_.shape());
  for (size_t i = decoder_.size(); i-- > 0;) {
    current ^= 1;
    const Tensor dx = turns[current]->view(be, dy.shape());
    const bool aligned = static_cast<int64_t>(i) == config_.alignment_layer;
    decoder_[i]->backward(be, dy, dx, d_memory, aligned ? alignment : ProbabilityGradient{});
    dy = dx;
    announce("decoder." + std::to_string(i) + ".");
  }
  target_embedding_->backward(be, dy);

  dy = d_memory;
  if (encoder_norm_) {
    dy = d_memory_top_.view(be, encoder_top_.shape());
    encoder_norm_->backward(be, d_memory, dy, Accumulate::no);
    announce("encoder.norm.");
  }
  for (size_t i = encoder_.size(); i-- > 0;) {
    current ^= 1;
    const Tensor dx = turns[current]->view(be, dy.shape());
    encoder_[i]->backward(be, dy, dx);
    dy = dx;
    announce("encoder." + std::to_string(i) + ".");
  }
  source_embedding_->backward(be, dy);
}

}  // namespace heed
