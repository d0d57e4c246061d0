// heed convert: rewrite a model file, e.g. with its weights in half precision or int8 for distribution,
// or marked for bf16 / int8 translation, or with the length normalisation it was tuned for; or
// make one from a model another toolkit trained (--from huggingface: a MarianMTModel folder;
// --from marian: a Marian release, as OPUS-MT models are downloaded).

#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

#include "commands.h"
#include "option_checks.h"
#include "output_checks.h"
#include "heed/align/word_links.h"
#include "heed/core/error.h"
#include "heed/data/corpus.h"
#include "heed/model/marian_import.h"
#include "heed/model/marian_npz_import.h"
#include "heed/model/model_file.h"
#include "heed/text/word_pieces.h"

namespace heed::app {

void add_convert_command(CLI::App& root, Action& chosen) {
  CLI::App* cmd = root.add_subcommand("convert", "Rewrite a model file: f16 weights (half the size), or for bf16 / int8 translation; or convert an OPUS-MT (Marian) model");
  struct Options {
    std::string input, output, precision = "f16";
    std::string from, folder;  // --from huggingface|marian FOLDER
    float normalize = -1.0f;  // < 0: keep the model's
    std::string domain_text;  // empty: keep the model's figure
    std::string symmetrize;   // empty: keep the model's
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-m,--model", o->input, "The heed model to convert");
  cmd->add_option("--from", o->from,
                  "huggingface: convert the MarianMTModel folder given after it (an OPUS-MT model as the Hugging Face "
                  "hub serves it: config.json, model.safetensors, source.spm, target.spm, vocab.json); marian: convert "
                  "the Marian release folder given after it (an OPUS-MT download: decoder.yml, the .npz model and "
                  ".vocab.yml it names, source.spm, target.spm)");
  cmd->add_option("folder", o->folder, "With --from: the folder to convert");
  cmd->add_option("-o,--output", o->output, "Where to write the converted model")->required();
  cmd->add_option("--precision", o->precision,
                  "f32 or f16: how the weights are stored (translated in f32); bf16: stored as f16, translated with bf16 "
                  "matmuls; int8: matmul weights stored as int8 with a scale per output channel (a quarter of f32), "
                  "translated with int8 matmuls (`translate --precision` overrides either)")
      ->capture_default_str();
  cmd->add_option("--normalize", o->normalize,
                  "Store α, the length normalisation `heed translate` uses for this model unless its --normalize "
                  "says otherwise (choose it on validation data)")
      ->check(number_in(0, 10));
  cmd->add_option("--domain-text", o->domain_text,
                  "Store how finely the model's source vocabulary cuts this text (its training source, one sentence a "
                  "line; `heed train` stores its own) and its sentences' mean length: `heed translate` warns of input "
                  "cut much finer, and cuts a sentence too long for the model into runs of about that length");
  cmd->add_option("--symmetrize", o->symmetrize,
                  "Store how `heed align` symmetrises this model's links unless its --symmetrize says otherwise "
                  "(intersection, union, grow-diag or grow-diag-final-and; choose it on gold links held out from any test)");
  cmd->callback([&chosen, o] {
    chosen = [o] {
      HEED_CHECK(o->precision == "f16" || o->precision == "f32" || o->precision == "bf16" || o->precision == "int8",
                 "--precision must be f32, f16, bf16 or int8, got '{}'", o->precision);
      HEED_CHECK(o->from.empty() || o->from == "huggingface" || o->from == "marian",
                 "--from must be huggingface or marian, got '{}'", o->from);
      if (!o->symmetrize.empty()) parse_symmetrization(o->symmetrize, "--symmetrize");
      HEED_CHECK(o->from.empty() != o->input.empty(),
                 "give the model to convert: -m MODEL.heed, or --from huggingface|marian FOLDER (one of them)");
      HEED_CHECK(o->from.empty() == o->folder.empty(), "--from {} needs the folder to convert after it", o->from);
      HEED_CHECK(o->folder.empty() || std::filesystem::is_directory(o->folder), "--from {}: {} is not a folder",
                 o->from, o->folder);
      std::vector<NamedInput> inputs = {{"-m", o->input}, {"--domain-text", o->domain_text}};
      if (!o->folder.empty())
        for (const auto& entry : std::filesystem::directory_iterator(o->folder))
          inputs.push_back({"--from", entry.path().string()});
      check_output_is_not_input(o->output, inputs);
      LoadedModel loaded = o->from.empty()          ? load_model(o->input)
                           : o->from == "marian" ? import_marian_npz_folder(o->folder)
                                                 : import_marian_folder(o->folder);
      if (!o->from.empty())
        spdlog::info("{}: a Marian model of {} parameters, {}+{} layers of width {}, {} pieces", o->folder,
                     loaded.model->parameters().count(), loaded.model->config().encoder_layers,
                     loaded.model->config().decoder_layers, loaded.model->config().model_dim,
                     loaded.model->config().target_vocab);
      // The matmul precision travels in the metadata; f32 and f16 files compute in f32.
      const std::string compute = o->precision == "bf16" || o->precision == "int8" ? o->precision : "f32";
      loaded.extras.metadata = with_metadata_value(loaded.extras.metadata, "translate-precision", compute);
      if (!o->domain_text.empty()) {
        const ModelVocabularies vocab = vocabularies_of(loaded.extras, o->input);
        int64_t words = 0, pieces = 0, sentences = 0;
        for (const std::string& line : read_lines(o->domain_text)) {
          const int64_t line_words = count_words(line);
          if (line_words == 0) continue;
          words += line_words;
          pieces += static_cast<int64_t>(vocab.source->encode(line).size());
          ++sentences;
        }
        HEED_CHECK(words > 0, "--domain-text {} holds no words", o->domain_text);
        loaded.extras.metadata = with_source_text_figures(loaded.extras.metadata, pieces, words, sentences);
        spdlog::info("{}: {:.3f} source pieces a word, {:.2f} a sentence ({} sentences)", o->domain_text,
                     static_cast<double>(pieces) / static_cast<double>(words),
                     static_cast<double>(pieces) / static_cast<double>(sentences), sentences);
      }
      if (!o->symmetrize.empty()) {
        loaded.extras.metadata = with_metadata_value(loaded.extras.metadata, kAlignSymmetrizeKey, o->symmetrize);
      }
      if (o->normalize >= 0.0f)
        loaded.extras.metadata = with_metadata_value(loaded.extras.metadata, "translate-normalize", fmt::format("{}", o->normalize));
      const StoredPrecision stored = o->precision == "f32"    ? StoredPrecision::f32
                                     : o->precision == "int8" ? StoredPrecision::int8
                                                              : StoredPrecision::f16;
      save_model(o->output, *loaded.model, loaded.extras, stored);
      const auto alpha = model_length_normalization(loaded.extras, o->output);
      spdlog::info("wrote {}: weights stored as {}, translated with {} matmuls{}", o->output,
                   stored == StoredPrecision::f32 ? "f32" : stored == StoredPrecision::int8 ? "int8 (the rest f16)" : "f16", compute,
                   alpha ? fmt::format(" and length normalisation α {}", *alpha) : "");
      return 0;
    };
  });
}

}  // namespace heed::app
