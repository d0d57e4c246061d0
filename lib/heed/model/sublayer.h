#pragma once
// The residual connection around every sublayer, with its layer norm and dropout:
//   pre-norm:  y = x + dropout(f(LN(x)))      (the default: trains stably without warm-up tricks)
//   post-norm: y = LN(x + dropout(f(x)))      (the original Transformer)
// f is the sublayer (attention or feed-forward), passed in as two functions:
//   forward(input, output) and backward(d_output, d_input, Accumulate).

#include <string>

#include "heed/backend/buffer.h"
#include "heed/model/layers.h"

namespace heed {

class Sublayer {
 public:
  Sublayer(ParameterSet& params, const std::string& name, const ModelConfig& config, SublayerScratch& scratch)
      : placement_(config.norm),
        norm_(params, name + ".norm", config.model_dim, config.layer_norm_epsilon),
        dropout_(config.dropout, name + ".residual_dropout"),
        scratch_(scratch) {}

  template <typename Forward>
  void forward(Backend& be, const Tensor& x, const Tensor& y, const RunMode& mode, Forward&& f) {
    const Tensor out = scratch_.output.view(be, x.shape());
    if (placement_ == NormPlacement::pre) {
      const Tensor normed = normed_.view(be, x.shape());  // kept: f's backward reads its input
      norm_.forward(be, x, normed);
      f(normed, out);
      be.add(x, dropout_.forward(be, out, mode), y);
    } else {
      f(x, out);
      const Tensor sum = normed_.view(be, x.shape());  // x + dropout(f(x)), what the norm reads
      be.add(x, dropout_.forward(be, out, mode), sum);
      norm_.forward(be, sum, y);
    }
  }

  // dx (+)= dL/dx as acc says.
  template <typename Backward>
  void backward(Backend& be, const Tensor& dy, const Tensor& dx, Accumulate acc, Backward&& g) {
    if (placement_ == NormPlacement::pre) {
      const Tensor d_normed = scratch_.d_normed.view(be, dy.shape());
      g(dropout_.backward(be, dy, scratch_.d_dropped), d_normed, Accumulate::no);
      norm_.backward(be, d_normed, dx, acc);
      be.axpy(1.0f, dy, dx);  // the residual path
    } else {
      const Tensor d_sum = scratch_.d_normed.view(be, dy.shape());
      norm_.backward(be, dy, d_sum, Accumulate::no);
      g(dropout_.backward(be, d_sum, scratch_.d_dropped), dx, acc);
      be.axpy(1.0f, d_sum, dx);  // the residual path
    }
  }

 private:
  NormPlacement placement_;
  LayerNorm norm_;
  Dropout dropout_;
  Buffer normed_;  // pre-norm: LN(x), f's input; post-norm: x + dropout(f(x)), the norm's
  SublayerScratch& scratch_;
};

}  // namespace heed
