#include <spdlog/spdlog.h>

#include "commands.h"

namespace heed::app {
namespace {

struct PlannedCommand {
  const char* name;
  const char* description;
  const char* built_by;
};

constexpr PlannedCommand kPlanned[] = {
    {"align", "Export word alignments from the model's cross-attention", "a later issue"},
};

}  // namespace

void add_planned_commands(CLI::App& root, Action& chosen) {
  for (const PlannedCommand& command : kPlanned) {
    CLI::App* sub = root.add_subcommand(command.name, command.description);
    sub->prefix_command();  // accept and ignore its future arguments
    sub->callback([&chosen, command] {
      chosen = [command] {
        spdlog::error("heed {} is not built yet: {} builds it", command.name, command.built_by);
        return kExitNotBuilt;
      };
    });
  }
}

}  // namespace heed::app
