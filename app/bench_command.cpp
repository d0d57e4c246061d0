// heed bench ops: matmul GFLOP/s at m30k-small's shapes, with 1 and 2 threads, each as a ratio
// to the 2048³ figure at the same thread count; and oneDNN primitive creation vs execution.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <vector>

#include "commands.h"
#include "option_checks.h"
#include "heed/backend/backend.h"
#include "heed/devices/devices.h"
#include "heed/bench/model_bench.h"
#include "heed/bench/ops_bench.h"
#include "heed/core/threads.h"
#include "heed/model/config.h"

namespace heed::app {
namespace {

struct BenchOpsOptions {
  std::vector<int> threads = {1, 2};
  int repeats = 10;
  int warmups = 3;
};

int run_bench_ops(const BenchOpsOptions& options, const DeviceSpec& device) {
  const std::vector<MatmulShape> shapes = m30k_small_matmul_shapes();
  auto backend = make_backend(device);
  std::map<int, std::vector<MatmulTiming>> timings;  // by thread count
  for (int threads : options.threads) {
    set_threads(threads);
    for (const MatmulShape& shape : shapes) {
      spdlog::info("bench: {} with {} thread(s)", shape.label, threads);
      timings[threads].push_back(time_matmul(*backend, shape, options.warmups, options.repeats));
    }
  }

  std::string header = "| matmul (f32, M×K×N) |", rule = "|---|";
  for (int threads : options.threads) {
    header += fmt::format(" {}T GFLOP/s | {}T ratio |", threads, threads);
    rule += "---:|---:|";
  }
  fmt::print("{}\n{}\n", header, rule);
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::string row = "| " + shapes[i].label + " |";
    for (int threads : options.threads) {
      const auto& t = timings[threads];
      row += fmt::format(" {:.1f} | {:.2f} |", t[i].gflops, t[i].gflops / t[0].gflops);
    }
    fmt::print("{}\n", row);
  }

  // Translation's products with a prepared weight, one thread (each translation worker's).
  set_threads(1);
  fmt::print("\n| decoding product (1 thread, M×K×N) | f32 plain µs | f32 prepared | bf16 | int8 |\n|---|---:|---:|---:|---:|\n");
  for (const MatmulShape& shape : decoding_matmul_shapes()) {
    spdlog::info("bench: {} with prepared weights", shape.label);
    const double plain = time_matmul(*backend, shape, options.warmups, options.repeats * 5).median_seconds;
    std::string row = fmt::format("| {} | {:.1f} |", shape.label, plain * 1e6);
    for (Precision p : {Precision::f32, Precision::bf16, Precision::int8}) {
      if (!backend->supports(p)) {
        row += " (no kernels) |";
        continue;
      }
      const double t = time_prepared_matmul(*backend, shape, p, options.warmups, options.repeats * 5).median_seconds;
      row += fmt::format(" {:.1f} µs, {:.2f}× |", t * 1e6, plain / t);
    }
    fmt::print("{}\n", row);
  }

  if (backend->supports(Precision::int8)) {
    const int32_t limit = backend->int8_input_limit();
    const double error = int8_worst_case_error(*backend);
    fmt::print("\nint8 products: {}-bit inputs (codes ±{}); with every code at its limit, 1024 terms sum {} "
               "(largest relative error {:.2g})\n",
               limit == kInt8FullInputLimit ? 8 : 7, limit, error <= 1e-6 ? "exactly" : "WRONG: the int8 path saturates",
               error);
  }

  set_threads(options.threads.back());
  const MatmulShape small{"64x256x256", 1, 64, 256, 256, false};
  const PrimitiveCreationCost cost = measure_primitive_creation(small, 15);
  fmt::print("\noneDNN primitive for a 64x256x256 matmul ({} threads): create + first run {:.1f} us, "
             "cached run {:.1f} us (creation ≈ {:.1f} us = {:.1f} runs)\n",
             options.threads.back(), cost.create_and_first_run_us, cost.run_us,
             cost.create_and_first_run_us - cost.run_us,
             (cost.create_and_first_run_us - cost.run_us) / cost.run_us);
  return 0;
}

struct BenchModelOptions {
  std::vector<std::string> attention = {"scaled-dot", "dot", "additive"};
  std::vector<std::string> precision = {"f32"};
  int64_t batch = 128;
  int64_t source_length = 32;
  int64_t target_length = 32;
  int repeats = 5;
};

int run_bench_model(const BenchModelOptions& options, const DeviceSpec& device) {
  auto backend = make_backend(device);
  const MatmulShape reference = m30k_small_matmul_shapes().front();  // a copy: the vector is a temporary
  const double peak = time_matmul(*backend, reference, 2, 5).gflops;
  const std::string where = backend->device() == Device::cpu ? fmt::format("{} threads", current_threads())
                                                              : device.str();
  spdlog::info("bench: 2048³ matmul reference {:.1f} GFLOP/s on {}", peak, where);

  fmt::print("m30k-small training step (forward + loss + backward, no optimizer), {} pairs of {} source and {} "
             "target pieces, {}\n\n",
             options.batch, options.source_length, options.target_length, where);
  fmt::print("| attention | matmuls | parameters | step s (median of {}) | target tokens/s | GFLOP/s | MFU vs f32 2048³ ({:.0f} GFLOP/s) |\n",
             options.repeats, peak);
  fmt::print("|---|---|---:|---:|---:|---:|---:|\n");
  std::vector<std::pair<std::string, std::vector<OpProfile>>> profiles;  // the first attention's, per precision
  for (const std::string& attention : options.attention) {
    for (const std::string& name : options.precision) {
      const Precision precision = parse_precision(name, "--precision");
      if (!backend->supports(precision)) {
        spdlog::warn("bench: no {} matmul kernels on this CPU: skipped", name);
        continue;
      }
      ModelConfig config;  // the defaults are m30k-small
      config.attention = parse_attention_score(attention);
      spdlog::info("bench: {} attention, {} matmuls", attention, name);
      const TrainingStepTiming t = time_training_step(device, config, options.batch, options.source_length,
                                                      options.target_length, 2, options.repeats, precision);
      fmt::print("| {} | {} | {} | {:.3f} | {:.0f} | {:.1f} | {:.0f}% |\n", attention, name, t.parameters, t.median_seconds,
                 t.target_tokens_per_second, t.gflops, 100.0 * t.gflops / peak);
      if (attention == options.attention.front()) profiles.emplace_back(name, t.profile);
    }
  }
  for (const auto& [name, profile] : profiles) {
    double total = 0.0;
    for (const OpProfile& op : profile) total += op.seconds;
    fmt::print("\nWhere one {} step's time goes with {} matmuls (one profiled step, {:.3f} s in backend ops):\n\n",
               options.attention.front(), name, total);
    fmt::print("| op | calls | seconds | share |\n|---|---:|---:|---:|\n");
    for (const OpProfile& op : profile)
      fmt::print("| {} | {} | {:.4f} | {:.1f}% |\n", op.name, op.calls, op.seconds, 100.0 * op.seconds / total);
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& root, Action& chosen, const DeviceSpec& device) {
  CLI::App* bench = root.add_subcommand("bench", "Measure heed's kernels and models on this machine");
  bench->require_subcommand(1);
  auto options = std::make_shared<BenchOpsOptions>();
  CLI::App* ops = bench->add_subcommand("ops", "Matmul GFLOP/s at m30k-small's shapes, 1 and 2 threads");
  ops->add_option("--threads-list", options->threads, "Thread counts to measure")->capture_default_str()->delimiter(',')->check(number_in(1, 1024));
  ops->add_option("--repeats", options->repeats, "Timed runs per shape (the median is reported)")
      ->capture_default_str()->check(number_in(1, 1e6));
  ops->callback([&chosen, &device, options] { chosen = [&device, options] { return run_bench_ops(*options, device); }; });

  auto model = std::make_shared<BenchModelOptions>();
  CLI::App* model_cmd = bench->add_subcommand("model", "Training-step time and MFU of m30k-small, per attention variant");
  model_cmd->add_option("--attention", model->attention, "Attention variants to time")->capture_default_str()->delimiter(',');
  model_cmd->add_option("--precision", model->precision, "Matmul precisions to time: f32, bf16")->capture_default_str()->delimiter(',');
  model_cmd->add_option("--batch", model->batch, "Sentence pairs per batch")->capture_default_str()->check(number_in(1, 1e6));
  model_cmd->add_option("--source-length", model->source_length, "Source pieces per sentence")->capture_default_str()->check(number_in(1, 1e5));
  model_cmd->add_option("--target-length", model->target_length, "Target pieces per sentence")->capture_default_str()->check(number_in(1, 1e5));
  model_cmd->add_option("--repeats", model->repeats, "Timed steps (the median is reported)")->capture_default_str()->check(number_in(1, 1e6));
  model_cmd->callback([&chosen, &device, model] { chosen = [&device, model] { return run_bench_model(*model, device); }; });
  add_bench_attention_command(*bench, chosen, device);
}

}  // namespace heed::app
