#pragma once
// Adam with the Transformer's schedule: linear warm-up to the peak learning rate, then decay
// with the inverse square root of the update number (Vaswani et al. 2017, §5.3); gradients
// clipped by their global norm first.

#include <cstdint>

#include "heed/backend/backend.h"
#include "heed/model/parameters.h"

namespace heed {

struct OptimizerOptions {
  float learning_rate = 5e-4f;  // the peak, reached at the end of warm-up
  int64_t warmup = 1000;        // updates
  float beta1 = 0.9f;
  float beta2 = 0.98f;
  float epsilon = 1e-9f;
  float clip_norm = 1.0f;       // 0: no clipping
};

// lr(t) = peak · min(t / warmup, √(warmup / t)) for update t ≥ 1.
float learning_rate_at(const OptimizerOptions& options, int64_t update);

struct UpdateInfo {
  float learning_rate = 0.0f;
  double grad_norm = 0.0;  // before clipping
  bool skipped = false;    // the gradient was not finite: no update was made
};

// The moments live where the parameters do (on be's device); they are restored from and saved
// to host tensors.
class Adam {
 public:
  Adam(Backend& be, ParameterSet& params, const OptimizerOptions& options);
  // Applies the parameters' accumulated gradients and counts one update, unless the gradient
  // holds an infinity or NaN: then nothing changes and the update is reported as skipped.
  UpdateInfo step(Backend& be);

  int64_t updates() const { return updates_; }
  // Restores the moments of a checkpoint (host tensors).
  void restore(const Tensor& first_moment, const Tensor& second_moment, int64_t updates);
  // The moments, readable on the host (to save them): the tensors themselves on a CPU backend.
  // Valid until the next call.
  Tensor first_moment_on_host() { return be_.to_host(m_, m_staging_); }
  Tensor second_moment_on_host() { return be_.to_host(v_, v_staging_); }

 private:
  Backend& be_;
  ParameterSet& params_;
  OptimizerOptions options_;
  Tensor m_, v_;  // over the parameter arena
  Tensor m_staging_, v_staging_;  // host copies of a device's moments, made when they are saved
  int64_t updates_ = 0;
};

}  // namespace heed
