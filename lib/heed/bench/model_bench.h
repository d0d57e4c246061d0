#pragma once
// Time of one training step (forward, loss, backward; no optimizer) of a Transformer on a
// synthetic batch, and the matmul FLOPs it performs, for throughput and model-FLOPs utilisation.

#include <cstdint>
#include <vector>

#include "heed/backend/op_profiler.h"
#include "heed/devices/devices.h"
#include "heed/model/config.h"

namespace heed {

// Matmul FLOPs of one forward pass over a batch of `batch` pairs of source length `source` and
// target length `target` (projections, FFNs, attention scores and context, output projection).
// Backward costs twice the forward, so a training step is 3× this.
double forward_flops(const ModelConfig& config, int64_t batch, int64_t source, int64_t target);

struct TrainingStepTiming {
  int64_t parameters = 0;
  double median_seconds = 0.0;
  double target_tokens_per_second = 0.0;
  double gflops = 0.0;                // 3 × forward_flops / median_seconds
  std::vector<OpProfile> profile;     // one extra, profiled step
};

// `precision`: the matmuls' (Backend::set_matmul_precision), as `heed train --precision`.
TrainingStepTiming time_training_step(const DeviceSpec& device, const ModelConfig& config, int64_t batch, int64_t source,
                                      int64_t target, int warmups, int repeats, Precision precision = Precision::f32);

}  // namespace heed
