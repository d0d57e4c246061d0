#pragma once
// Each subcommand registers its CLI11 options and, when chosen on the command line, stores the
// action to run in `chosen`. main() runs it after parsing, inside one error handler.

#include <CLI/CLI.hpp>

#include <functional>

namespace heed {
struct DeviceSpec;
}

namespace heed::app {

using Action = std::function<int()>;

// Exit codes: 0 success; 1 a heed::Error (bad input, I/O); 128 + signal for an interrupted training.
inline constexpr int kExitError = 1;

// The commands that compute take `device`, which main() fills from --device before running them.
void add_bench_command(CLI::App& root, Action& chosen, const DeviceSpec& device);
void add_bench_attention_command(CLI::App& bench, Action& chosen, const DeviceSpec& device);  // under `heed bench`
void add_info_command(CLI::App& root, Action& chosen);
void add_score_command(CLI::App& root, Action& chosen);
void add_train_command(CLI::App& root, Action& chosen, const DeviceSpec& device);
void add_vocab_command(CLI::App& root, Action& chosen);
void add_translate_command(CLI::App& root, Action& chosen, const DeviceSpec& device);
void add_convert_command(CLI::App& root, Action& chosen);
void add_average_command(CLI::App& root, Action& chosen);
void add_align_command(CLI::App& root, Action& chosen, const DeviceSpec& device);

}  // namespace heed::app
