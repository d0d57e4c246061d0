// heed bench ops: matmul GFLOP/s at m30k-small's shapes, with 1 and 2 threads, each as a ratio
// to the 2048³ figure at the same thread count; and oneDNN primitive creation vs execution.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <vector>

#include "commands.h"
#include "heed/backend/backend.h"
#include "heed/bench/ops_bench.h"
#include "heed/core/threads.h"

namespace heed::app {
namespace {

struct BenchOpsOptions {
  std::vector<int> threads = {1, 2};
  int repeats = 10;
  int warmups = 3;
};

int run_bench_ops(const BenchOpsOptions& options) {
  const std::vector<MatmulShape> shapes = m30k_small_matmul_shapes();
  auto backend = make_backend(BackendKind::onednn);
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

}  // namespace

void add_bench_command(CLI::App& root, Action& chosen) {
  CLI::App* bench = root.add_subcommand("bench", "Measure heed's kernels and models on this machine");
  bench->require_subcommand(1);
  auto options = std::make_shared<BenchOpsOptions>();
  CLI::App* ops = bench->add_subcommand("ops", "Matmul GFLOP/s at m30k-small's shapes, 1 and 2 threads");
  ops->add_option("--threads-list", options->threads, "Thread counts to measure")->capture_default_str()->delimiter(',');
  ops->add_option("--repeats", options->repeats, "Timed runs per shape (the median is reported)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  ops->callback([&chosen, options] { chosen = [options] { return run_bench_ops(*options); }; });
}

}  // namespace heed::app
