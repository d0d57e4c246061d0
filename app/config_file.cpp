#include "config_file.h"

#include <filesystem>

#include "heed/core/error.h"
#include "heed/core/file_io.h"

namespace heed::app {

void apply_config_file(CLI::App& command, const std::string& path) {
  check_input_file(path, true);
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
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
