#include "heed/bench/model_bench.h"

#include <algorithm>
#include <chrono>

#include "heed/devices/devices.h"
#include "heed/model/transformer.h"

namespace heed {
namespace {

Tensor random_ids(int64_t rows, int64_t cols, int64_t vocab, Rng& rng) {
  Tensor t = Tensor::empty(Shape{rows, cols}, DType::i32);
  // Ids 4 and up: real pieces, never padding or a special piece.
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] = 4 + static_cast<int32_t>(rng.next_u64() % (vocab - 4));
  return t;
}

}  // namespace

double forward_flops(const ModelConfig& c, int64_t batch, int64_t source, int64_t target) {
  const double d = static_cast<double>(c.model_dim), f = static_cast<double>(c.ffn_dim);
  const double src_tokens = static_cast<double>(batch * source), tgt_tokens = static_cast<double>(batch * target);
  const double s = static_cast<double>(source), t = static_cast<double>(target);
  // 2 FLOPs per multiply-add. Per encoder layer and source token: q, k, v, o projections,
  // the FFN, and scores + context over S keys.
  const double encoder = static_cast<double>(c.encoder_layers) * src_tokens * 2 * (4 * d * d + 2 * d * f + 2 * s * d);
  // Per decoder layer and target token: self q, k, v, o; cross q, o; FFN; self attention over
  // T keys and cross attention over S keys. Cross k, v: per source token.
  const double decoder = static_cast<double>(c.decoder_layers) *
                         (tgt_tokens * 2 * (6 * d * d + 2 * d * f + 2 * t * d + 2 * s * d) + src_tokens * 2 * (2 * d * d));
  const double output = tgt_tokens * 2 * d * static_cast<double>(c.target_vocab);
  return encoder + decoder + output;
}

TrainingStepTiming time_training_step(const DeviceSpec& device, const ModelConfig& config, int64_t batch, int64_t source, int64_t target,
                                      int warmups, int repeats, Precision precision) {
  auto backend = make_backend(device);
  backend->set_matmul_precision(precision);
  Transformer model(config);
  model.parameters().initialize(1);
  model.parameters().place_on(*backend);  // a GPU backend computes on its own memory
  Rng rng(2);
  Batch data;
  data.source = random_ids(batch, source, config.source_vocab, rng);
  data.target_in = random_ids(batch, target, config.target_vocab, rng);
  data.target_out = random_ids(batch, target, config.target_vocab, rng);
  const auto step = [&](Backend& be, uint64_t seed) {
    model.parameters().zero_grads(be);
    LossGradients gradients;
    const LossSums sums = model.forward_loss(be, data, 0.1f, RunMode{.training = true, .seed = seed}, &gradients);
    model.backward(be, gradients, 1.0f / static_cast<float>(sums.tokens));
    be.synchronize();  // a GPU's clock stops when the step's kernels have run, not when they are queued
  };
  for (int i = 0; i < warmups; ++i) step(*backend, static_cast<uint64_t>(i));
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    step(*backend, static_cast<uint64_t>(100 + i));
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  TrainingStepTiming timing;
  timing.parameters = model.parameters().count();
  timing.median_seconds = times[times.size() / 2];
  timing.target_tokens_per_second = static_cast<double>(batch * target) / timing.median_seconds;
  timing.gflops = 3.0 * forward_flops(config, batch, source, target) / timing.median_seconds * 1e-9;
  OpProfiler profiler;
  {
    const ProfiledScope profiled(*backend, profiler);
    step(*backend, 999);
  }
  timing.profile = profiler.report();
  return timing;
}

}  // namespace heed
