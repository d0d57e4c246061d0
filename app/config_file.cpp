#include "config_file.h"

#include <filesystem>
#include <sstream>

#include "heed/core/error.h"
#include "heed/core/file_io.h"

namespace heed::app {

std::vector<CLI::ConfigItem> read_config_items(const std::string& text) {
  std::string kept;
  kept.reserve(text.size());
  char quote = 0;  // the quote character of the string being read, or 0
  bool in_comment = false;
  for (const char c : text) {
    if (c == '\n') {
      in_comment = false;
      quote = 0;  // a string does not run past its line
    } else if (in_comment) {
      continue;
    } else if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      in_comment = true;
      continue;
    }
    kept += c;
  }
  std::istringstream in(kept);
  CLI::ConfigTOML reader;
  reader.comment('\0');  // the comments are gone; a '#' left is inside a quoted value
  return reader.from_config(in);
}

void apply_config_file(CLI::App& command, const std::string& path) {
  check_input_file(path, true);
  std::vector<CLI::ConfigItem> items;
  try {
    items = read_config_items(read_file_or_pipe(path));
  } catch (const CLI::Error& e) {
    fail("cannot parse the config file {}: {}", path, e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    const bool ours = item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == command.get_name());
    HEED_CHECK(ours, "config file {}: section [{}] does not belong to `heed {}`", path, item.parents[0], command.get_name());
    CLI::Option* option = command.get_option_no_throw("--" + item.name);
    HEED_CHECK(option != nullptr, "config file {}: unknown option '{}' for `heed {}`", path, item.name, command.get_name());
    if (option->count() > 0) continue;  // the command line wins
    try {
      option->add_result(item.inputs);
      option->run_callback();
    } catch (const CLI::Error& e) {
      fail("config file {}: bad value for '{}': {}", path, item.name, e.what());
    }
  }
}

}  // namespace heed::app
