// heed average: one model whose parameters are the mean of several checkpoints' (see
// heed/model/average.h), e.g. the last few that `heed train --keep-last N` kept.

#include <spdlog/spdlog.h>

#include "commands.h"
#include "output_checks.h"
#include "heed/core/error.h"
#include "heed/model/average.h"
#include "heed/model/model_file.h"

namespace heed::app {

void add_average_command(CLI::App& root, Action& chosen) {
  CLI::App* cmd = root.add_subcommand("average", "Average the parameters of checkpoints of one model (e.g. the last few of a training)");
  struct Options {
    std::vector<std::string> inputs;
    std::string output, precision = "f32";
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("models", o->inputs, "Models of one architecture and vocabulary")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the averaged model")->required();
  cmd->add_option("--precision", o->precision, "How to store the weights: f32 or f16")->capture_default_str();
  cmd->callback([&chosen, o] {
    chosen = [o] {
      HEED_CHECK(o->precision == "f16" || o->precision == "f32", "--precision must be f16 or f32, got '{}'", o->precision);
      std::vector<NamedInput> inputs;
      for (const std::string& input : o->inputs) inputs.push_back({"models", input});
      check_output_is_not_input(o->output, inputs);
      std::vector<LoadedModel> models;
      for (const std::string& input : o->inputs) models.push_back(load_model(input));
      const LoadedModel averaged = average_models(models, o->inputs);
      save_model(o->output, *averaged.model, averaged.extras,
                 o->precision == "f16" ? StoredPrecision::f16 : StoredPrecision::f32);
      spdlog::info("wrote {}: the mean of {} models' {} parameters", o->output, models.size(),
                   averaged.model->parameters().count());
      return 0;
    };
  });
}

}  // namespace heed::app
