// heed convert: rewrite a model file, e.g. with its weights in half precision for distribution.

#include <spdlog/spdlog.h>

#include "commands.h"
#include "heed/core/error.h"
#include "heed/model/model_file.h"

namespace heed::app {

void add_convert_command(CLI::App& root, Action& chosen) {
  CLI::App* cmd = root.add_subcommand("convert", "Rewrite a model file, e.g. with f16 weights (half the size)");
  struct Options {
    std::string input, output, precision = "f16";
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-m,--model", o->input, "The model to convert")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the converted model")->required();
  cmd->add_option("--precision", o->precision, "f16 or f32")->capture_default_str();
  cmd->callback([&chosen, o] {
    chosen = [o] {
      HEED_CHECK(o->precision == "f16" || o->precision == "f32", "--precision must be f16 or f32, got '{}'", o->precision);
      const LoadedModel loaded = load_model(o->input);
      save_model(o->output, *loaded.model, loaded.extras, o->precision == "f16" ? StoredPrecision::f16 : StoredPrecision::f32);
      spdlog::info("wrote {} with {} weights", o->output, o->precision);
      return 0;
    };
  });
}

}  // namespace heed::app
