#pragma once
// Options from a config file (TOML or INI, through CLI11's parser) for a subcommand: the keys
// are the options' long names (`train-src = "train.en"`), at the top level or in a section
// named after the subcommand. Options given on the command line win over the file.
// (CLI11 2.1 reads config files for the root command only, so subcommands apply them here.)

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace heed::app {

void apply_config_file(CLI::App& command, const std::string& path);

// The items of config text (TOML or INI). Comments run from a '#' outside quotes to the end of
// its line: CLI11 2.1 would cut a quoted value at its '#' too ("runs/#3/train.en").
// Throws CLI::Error when the text does not parse.
std::vector<CLI::ConfigItem> read_config_items(const std::string& text);

}  // namespace heed::app
