#include "heed/train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace heed {

float learning_rate_at(const OptimizerOptions& o, int64_t update) {
  const double t = static_cast<double>(std::max<int64_t>(update, 1));
  const double warmup = static_cast<double>(std::max<int64_t>(o.warmup, 1));
  return static_cast<float>(o.learning_rate * std::min(t / warmup, std::sqrt(warmup / t)));
}

Adam::Adam(Backend& be, ParameterSet& params, const OptimizerOptions& options)
    : be_(be),
      params_(params),
      options_(options),
      m_(be.allocate(params.values().shape())),
      v_(be.allocate(params.values().shape())) {
  be.fill(m_, 0.0);
  be.fill(v_, 0.0);
}

void Adam::restore(const Tensor& first_moment, const Tensor& second_moment, int64_t updates) {
  be_.upload(first_moment, m_);
  be_.upload(second_moment, v_);
  updates_ = updates;
}


UpdateInfo Adam::step(Backend& be) {
  UpdateInfo info;
  info.grad_norm = std::sqrt(be.sum_squares(params_.grads()));
  if (!std::isfinite(info.grad_norm)) {
    info.skipped = true;
    return info;
  }
  float scale = 1.0f;
  if (options_.clip_norm > 0.0f && info.grad_norm > options_.clip_norm)
    scale = static_cast<float>(options_.clip_norm / info.grad_norm);
  ++updates_;
  info.learning_rate = learning_rate_at(options_, updates_);
  be.adam_update(params_.values(), params_.grads(), m_, v_,
                 {.learning_rate = info.learning_rate, .beta1 = options_.beta1, .beta2 = options_.beta2,
                  .epsilon = options_.epsilon, .grad_scale = scale, .step = updates_});
  return info;
}

}  // namespace heed
