// heed info MODEL: what a model file holds, after checking all of it.

#include <fmt/format.h>

#include "commands.h"
#include "default_model.h"
#include "heed/model/model_file.h"

namespace heed::app {

void add_info_command(CLI::App& root, Action& chosen) {
  CLI::App* info = root.add_subcommand("info", "Print a model file's configuration, parameter count, vocabularies and checksum");
  auto path = std::make_shared<std::string>();
  info->add_option("model", *path, "A heed model file, or the name of an installed one (en-de, de-en)")->required();
  info->callback([&chosen, path] {
    chosen = [path] {
      fmt::print("{}", describe_model(load_model(resolve_model(*path))));
      return 0;
    };
  });
}

}  // namespace heed::app
