// heed vocab: train SentencePiece vocabularies through its C++ library.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "commands.h"
#include "option_checks.h"
#include "output_checks.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/data/corpus.h"
#include "heed/text/clean_text.h"
#include "heed/text/vocabulary.h"

namespace heed::app {
namespace {

struct VocabOptions {
  std::vector<std::string> inputs;
  std::string prefix;
  int64_t size = 8000;
  std::string type = "unigram";
  bool per_input = false;
  VocabularyTraining training;
};

// PREFIX.model (the SentencePiece model) and PREFIX.vocab (one "piece<TAB>id" line per piece).
void write_vocabulary(const Vocabulary& v, const std::string& prefix) {
  write_file_atomically(prefix + ".model", v.serialized());
  std::string listing;
  for (int64_t id = 0; id < v.size(); ++id) listing += fmt::format("{}\t{}\n", v.piece(static_cast<int32_t>(id)), id);
  write_file_atomically(prefix + ".vocab", listing);
  spdlog::info("wrote {}.model and {}.vocab: {} pieces", prefix, prefix, v.size());
}

void check_vocabulary_inputs(const std::vector<std::string>& inputs) {
  bool any_text = false;
  for (const std::string& input : inputs) {
    check_input_file(input, false);  // SentencePiece opens the file itself: a pipe would be read empty
    const std::vector<std::string> lines = read_lines(input);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (const size_t nul = lines[i].find('\0'); nul != std::string::npos)
        fail("{}:{}: a NUL byte at byte {} of the line: SentencePiece cannot learn from it (remove NUL bytes, e.g. "
             "with tr -d '\\000')", input, i + 1, nul + 1);
      any_text = any_text || !is_blank(lines[i]);
    }
  }
  HEED_CHECK(any_text, "{} hold(s) no text to learn a vocabulary from (every line is empty)", fmt::join(inputs, ", "));
}

int run_vocab(VocabOptions o) {
  HEED_CHECK(o.type == "unigram" || o.type == "bpe", "--type must be unigram or bpe, got '{}'", o.type);
  o.training.size = o.size;
  o.training.type = o.type == "bpe" ? VocabularyType::bpe : VocabularyType::unigram;
  // The same checks as for training data (file, line and byte of invalid UTF-8), before
  // SentencePiece reads the files and reports problems in its own terms.
  check_vocabulary_inputs(o.inputs);
  std::vector<NamedInput> inputs;
  for (const std::string& input : o.inputs) inputs.push_back({"-i", input});
  for (const std::string& input : o.inputs) {
    const std::string prefix = o.per_input ? o.prefix + std::filesystem::path(input).extension().string() : o.prefix;
    for (const char* suffix : {".model", ".vocab"}) check_output_is_not_input(prefix + suffix, inputs);
  }
  if (!o.per_input) {
    o.training.inputs = o.inputs;
    spdlog::info("training a joint {} vocabulary of {} pieces on {} file(s)", o.type, o.size, o.inputs.size());
    write_vocabulary(Vocabulary::train(o.training), o.prefix);
    return 0;
  }
  for (const std::string& input : o.inputs) {
    // train.en -> PREFIX.en: one vocabulary per language, named by the file's extension.
    const std::string language = std::filesystem::path(input).extension().string();
    HEED_CHECK(language.size() > 1, "--per-input names each vocabulary by its file's extension, and {} has none", input);
    o.training.inputs = {input};
    spdlog::info("training a {} vocabulary of {} pieces on {}", o.type, o.size, input);
    write_vocabulary(Vocabulary::train(o.training), o.prefix + language);
  }
  return 0;
}

}  // namespace

void add_vocab_command(CLI::App& root, Action& chosen) {
  CLI::App* cmd = root.add_subcommand("vocab", "Train a SentencePiece vocabulary on one or more corpora");
  auto o = std::make_shared<VocabOptions>();
  cmd->add_option("-i,--input", o->inputs, "Text files, one sentence a line")->required();
  cmd->add_option("-o,--output", o->prefix, "Output prefix: writes PREFIX.model and PREFIX.vocab")->required();
  cmd->add_option("--size", o->size, "Pieces in the vocabulary")->capture_default_str()->check(number_in(8, 1000000));
  cmd->add_option("--type", o->type, "unigram or bpe")->capture_default_str();
  cmd->add_flag("--per-input", o->per_input, "One vocabulary per input file (PREFIX.<extension>), instead of one joint one");
  cmd->add_option("--character-coverage", o->training.character_coverage, "Share of characters to cover")
      ->capture_default_str()->check(number_in(0, 1, Bound::open));
  cmd->add_option("--input-sentence-size", o->training.input_sentence_size, "Sample this many sentences (0: all)")
      ->capture_default_str()->check(number_in(0, 1e10));
  cmd->add_option("--max-sentence-length", o->training.max_sentence_length, "Skip longer lines (bytes)")->capture_default_str()->check(number_in(10, 1073741824));
  cmd->add_option("--normalization", o->training.normalization, "SentencePiece normalization: nmt_nfkc, nfkc, identity, ...")
      ->capture_default_str();
  cmd->callback([&chosen, o] { chosen = [o] { return run_vocab(*o); }; });
}

}  // namespace heed::app
