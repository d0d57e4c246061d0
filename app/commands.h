#pragma once
// Each subcommand registers its CLI11 options and, when chosen on the command line, stores the
// action to run in `chosen`. main() runs it after parsing, inside one error handler.

#include <CLI/CLI.hpp>

#include <functional>

namespace heed::app {

using Action = std::function<int()>;

// Exit codes: 0 success; 1 a heed::Error (bad input, I/O); 2 a subcommand not built yet.
inline constexpr int kExitError = 1;
inline constexpr int kExitNotBuilt = 2;

void add_bench_command(CLI::App& root, Action& chosen);
void add_info_command(CLI::App& root, Action& chosen);
void add_score_command(CLI::App& root, Action& chosen);
void add_train_command(CLI::App& root, Action& chosen);
void add_vocab_command(CLI::App& root, Action& chosen);
void add_translate_command(CLI::App& root, Action& chosen);
void add_convert_command(CLI::App& root, Action& chosen);
// Subcommands whose issue has not landed: they say which issue builds them and exit 2.
void add_planned_commands(CLI::App& root, Action& chosen);

}  // namespace heed::app
