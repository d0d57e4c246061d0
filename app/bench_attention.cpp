// heed bench attention: one self-attention layer's forward + backward time and peak memory over
// lengths 128 … 16,384, per way of computing attention, as a table with log-log slopes and an SVG
// plot. Each measurement runs in a child process (this program again, with --case and --length),
// so that its peak resident memory is its own; the table gives it above a child that ran the
// layer over one position.

#include <fmt/format.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "commands.h"
#include "option_checks.h"
#include "heed/bench/attention_bench.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/threads.h"

extern char** environ;

namespace heed::app {
namespace {

struct BenchAttentionOptions {
  std::vector<int64_t> lengths = {128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  int repeats = 3;
  std::string svg;
  double memory_limit_gb = 0.0;  // 0: half of the machine's memory
  // A child's single measurement (internal).
  std::string one_case;
  int64_t one_length = 0;
};

struct Measurement {
  double seconds = -1.0;  // < 0: not measured
  double peak_mb = -1.0;
};

// Runs `heed bench attention --case NAME --length L` as a child; its stdout is the median
// seconds, its rusage the peak memory.
Measurement measure_in_child(const std::string& name, int64_t length, int repeats) {
  const std::vector<std::string> args = {"heed", "--threads", std::to_string(current_threads()), "-q", "bench", "attention",
                                         "--case", name, "--length", std::to_string(length), "--repeats", std::to_string(repeats)};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int out[2];
  HEED_CHECK(::pipe(out) == 0, "bench attention: pipe: {}", std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  HEED_CHECK(spawned == 0, "bench attention: could not start a measurement: {}", std::strerror(spawned));
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  rusage usage{};
  HEED_CHECK(::wait4(pid, &status, 0, &usage) == pid, "bench attention: wait: {}", std::strerror(errno));
  HEED_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "bench attention: the {} measurement at length {} failed",
             name, length);
  return {std::stod(text), static_cast<double>(usage.ru_maxrss) / 1024.0};  // ru_maxrss is in KiB
}

// The plain path holds about four [H, T, T] f32 tensors at once (scores, probabilities and two gradients).
double plain_bytes(int64_t length) { return 4.0 * 4 * 4.0 * static_cast<double>(length) * static_cast<double>(length); }

std::string cell(const Measurement& m) {
  if (m.seconds < 0.0) return " – | – |";
  return fmt::format(" {:.1f} | {:.0f} |", m.seconds * 1e3, m.peak_mb);
}

int run_bench_attention(const BenchAttentionOptions& options, const DeviceSpec& device) {
  if (!options.one_case.empty()) {  // a child: one measurement
    fmt::print("{:.9f}\n", time_attention_layer(device, attention_bench_case(options.one_case), options.one_length, options.repeats));
    return 0;
  }
  const double limit = options.memory_limit_gb > 0.0
                           ? options.memory_limit_gb * 1e9
                           : 0.5 * static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  const std::vector<AttentionBenchCase> cases = attention_bench_cases();
  const double baseline_mb = measure_in_child("full-tiled", 1, 1).peak_mb;
  std::vector<std::vector<Measurement>> table(cases.size(), std::vector<Measurement>(options.lengths.size()));
  for (size_t i = 0; i < cases.size(); ++i)
    for (size_t j = 0; j < options.lengths.size(); ++j) {
      const int64_t length = options.lengths[j];
      if (!cases[i].tiled && plain_bytes(length) > limit) {
        spdlog::warn("bench: {} at {} positions skipped: it needs ~{:.1f} GB, over the limit of {:.1f} GB (--memory-limit)",
                     cases[i].name, length, plain_bytes(length) / 1e9, limit / 1e9);
        continue;
      }
      spdlog::info("bench: {} attention over {} positions", cases[i].name, length);
      Measurement m = measure_in_child(cases[i].name, length, options.repeats);
      m.peak_mb = std::max(0.0, m.peak_mb - baseline_mb);
      table[i][j] = m;
    }

  fmt::print("One self-attention layer (width 256, 4 heads, one sequence), forward + backward, {} thread(s): "
             "median ms of {} runs | peak MB above a one-position run ({:.0f} MB)\n\n",
             current_threads(), options.repeats, baseline_mb);
  std::string header = "| length |", rule = "|---:|";
  for (const AttentionBenchCase& c : cases) {
    header += fmt::format(" {} ms | MB |", c.name);
    rule += "---:|---:|";
  }
  fmt::print("{}\n{}\n", header, rule);
  for (size_t j = 0; j < options.lengths.size(); ++j) {
    std::string row = fmt::format("| {} |", options.lengths[j]);
    for (size_t i = 0; i < cases.size(); ++i) row += cell(table[i][j]);
    fmt::print("{}\n", row);
  }
  std::vector<double> x(options.lengths.begin(), options.lengths.end());
  std::vector<LogLogPanel> panels = {{"time (forward + backward)", "ms", {}}, {"peak memory above one position", "MB", {}}};
  std::string slopes = "| slope, longest 4 |";
  for (size_t i = 0; i < cases.size(); ++i) {
    LogLogSeries time{cases[i].name, {}}, memory{cases[i].name, {}};
    for (const Measurement& m : table[i]) {
      time.y.push_back(m.seconds * 1e3);
      memory.y.push_back(m.peak_mb);
    }
    slopes += fmt::format(" {:.2f} | {:.2f} |", log_log_slope_of_longest(x, time.y), log_log_slope_of_longest(x, memory.y));
    panels[0].series.push_back(time);
    panels[1].series.push_back(memory);
  }
  fmt::print("{}\n", slopes);
  if (!options.svg.empty()) {
    write_file_atomically(options.svg, log_log_svg(fmt::format("One attention layer (d 256, 4 heads), forward + backward, {} thread(s)",
                                                               current_threads()),
                                                   "length (positions)", x, panels));
    spdlog::info("wrote {}", options.svg);
  }
  return 0;
}

}  // namespace

void add_bench_attention_command(CLI::App& bench, Action& chosen, const DeviceSpec& device) {
  auto options = std::make_shared<BenchAttentionOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "attention", "Time and peak memory of one attention layer over lengths 128 … 16,384: full (plain, tiled) and windowed");
  cmd->add_option("--lengths", options->lengths, "Sequence lengths to measure")->capture_default_str()->delimiter(',')
      ->check(number_in(1, 1e7));
  cmd->add_option("--repeats", options->repeats, "Timed runs per cell (the median is reported)")->capture_default_str()
      ->check(number_in(1, 1e6));
  cmd->add_option("--svg", options->svg, "Also write the log-log plot of time and memory to this SVG file");
  cmd->add_option("--memory-limit", options->memory_limit_gb,
                  "GB the plain path may need before its row is skipped (0: half the machine's memory)")
      ->capture_default_str()->check(number_in(0, 1e6));
  cmd->add_option("--case", options->one_case, "Measure one case once and print its median seconds (internal)")->group("");
  cmd->add_option("--length", options->one_length, "The length for --case (internal)")->group("")->check(number_in(1, 1e7));
  cmd->callback([&chosen, &device, options] { chosen = [&device, options] { return run_bench_attention(*options, device); }; });
}

}  // namespace heed::app
