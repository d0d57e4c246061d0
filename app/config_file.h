#pragma once
// Options from a config file (TOML or INI, through CLI11's parser) for a subcommand: the keys
// are the options' long names (`train-src = "train.en"`), at the top level or in a section
// named after the subcommand. Options given on the command line win over the file.
// (CLI11 2.1 reads config files for the root command only, so subcommands apply them here.)

#include <CLI/CLI.hpp>

#include <string>

namespace heed::app {

void apply_config_file(CLI::App& command, const std::string& path);

}  // namespace heed::app
