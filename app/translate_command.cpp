// heed translate: text in, translation out, one line per line, streaming in chunks so that a
// large input starts printing early.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "heed/core/error.h"
#include "heed/backend/profiling_backend.h"
#include "heed/decode/translator.h"
#include "heed/model/model_file.h"
#include "heed/text/utf8.h"

namespace heed::app {
namespace {

struct TranslateCliOptions {
  std::string model;
  std::string input = "-";
  std::string output = "-";
  TranslateOptions translate;
  std::string long_lines = "split";
  bool strict = false;
  bool scores = false;
  bool profile = false;
  int64_t chunk_lines = 1000;
};

// The model the quick start uses: data/default.heed of the source tree heed was built from.
std::string default_model() { return HEED_DEFAULT_MODEL; }

void write_line(std::ostream& out, int64_t index, const TranslatedLine& line, const TranslateCliOptions& o) {
  if (o.translate.beam.n_best > 1) {
    for (size_t h = 0; h < line.texts.size(); ++h) out << fmt::format("{} ||| {} ||| {:.4f}\n", index, line.texts[h], line.scores[h]);
  } else if (o.scores) {
    out << fmt::format("{} ||| {:.4f}\n", line.texts[0], line.scores[0]);
  } else {
    out << line.texts[0] << '\n';
  }
}

int run_translate(TranslateCliOptions o) {
  HEED_CHECK(o.long_lines == "split" || o.long_lines == "truncate", "--long-lines must be split or truncate, got '{}'", o.long_lines);
  o.translate.long_lines = o.long_lines == "split" ? LongLines::split : LongLines::truncate;
  if (o.model.empty()) {
    o.model = default_model();
    HEED_CHECK(std::filesystem::exists(o.model), "no model given (-m MODEL) and the default model {} is missing", o.model);
    spdlog::info("using the default model {}", o.model);
  }
  const auto start = std::chrono::steady_clock::now();
  LoadedModel loaded = load_model(o.model);
  const ModelVocabularies vocab = vocabularies_of(loaded.extras, o.model);
  auto onednn = make_backend(BackendKind::onednn);
  ProfilingBackend profiler(*onednn);
  Backend& be = o.profile ? static_cast<Backend&>(profiler) : *onednn;
  Translator translator(be, *loaded.model, *vocab.source, *vocab.target, o.translate);

  std::ifstream file_in;
  if (o.input != "-") {
    HEED_CHECK(std::filesystem::is_regular_file(o.input), "cannot read {}: no such file", o.input);
    file_in.open(o.input, std::ios::binary);
  }
  std::istream& in = o.input == "-" ? std::cin : file_in;
  const std::string input_name = o.input == "-" ? "standard input" : o.input;

  std::vector<std::string> pending;
  if (o.strict) {  // every line checked before anything is written
    std::string line;
    while (std::getline(in, line)) {
      if (const auto bad = find_invalid_utf8(line))
        fail("{} line {}: invalid UTF-8 at byte {} (--strict: nothing was translated)", input_name, pending.size() + 1, *bad + 1);
      pending.push_back(std::move(line));
    }
  }

  std::ofstream file_out;
  if (o.output != "-") {
    file_out.open(o.output, std::ios::binary | std::ios::trunc);
    HEED_CHECK(file_out.good(), "cannot write {}", o.output);
  }
  std::ostream& out = o.output == "-" ? std::cout : file_out;

  int64_t next_line = 1;
  size_t strict_pos = 0;
  std::vector<std::string> chunk;
  while (true) {
    chunk.clear();
    if (o.strict) {
      for (; strict_pos < pending.size() && static_cast<int64_t>(chunk.size()) < o.chunk_lines; ++strict_pos)
        chunk.push_back(std::move(pending[strict_pos]));
    } else {
      std::string line;
      while (static_cast<int64_t>(chunk.size()) < o.chunk_lines && std::getline(in, line)) chunk.push_back(std::move(line));
    }
    if (chunk.empty()) break;
    const std::vector<TranslatedLine> lines = translator.translate(chunk, next_line);
    for (size_t i = 0; i < lines.size(); ++i) write_line(out, next_line - 1 + static_cast<int64_t>(i), lines[i], o);
    out.flush();
    HEED_CHECK(out.good(), "cannot write the translation to {}", o.output == "-" ? "standard output" : o.output);
    next_line += static_cast<int64_t>(chunk.size());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const TranslateStats& s = translator.stats();
  spdlog::info("translated {} lines in {:.2f} s: {:.1f} sentences/s, {:.0f} target tokens/s ({} empty, {} invalid, {} too long)",
               s.lines, seconds, static_cast<double>(s.lines) / seconds, static_cast<double>(s.target_pieces) / seconds,
               s.empty, s.invalid, s.long_lines);
  if (o.profile) {
    double total = 0.0;
    for (const OpProfile& op : profiler.report()) total += op.seconds;
    spdlog::info("profile: {:.3f} s in backend ops, {:.3f} s elsewhere (beam bookkeeping, SentencePiece, I/O)", total, seconds - total);
    for (const OpProfile& op : profiler.report())
      spdlog::info("profile: {:<24} {:>8} calls {:>8.3f} s {:>5.1f}%", op.name, op.calls, op.seconds, 100.0 * op.seconds / seconds);
  }
  return 0;
}

}  // namespace

void add_translate_command(CLI::App& root, Action& chosen) {
  CLI::App* cmd = root.add_subcommand("translate", "Translate text from a file or stdin with batched beam search");
  auto o = std::make_shared<TranslateCliOptions>();
  cmd->add_option("-m,--model", o->model, "A heed model (default: the model in data/default.heed)");
  cmd->add_option("-i,--input", o->input, "Text to translate, one sentence a line (- for standard input)")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Where to write the translation (- for standard output)")->capture_default_str();
  cmd->add_option("--beam", o->translate.beam.beam, "Beam size (1: greedy)")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--normalize", o->translate.beam.length_penalty, "Length normalisation α: score / length^α")->capture_default_str();
  cmd->add_option("--max-length-factor", o->translate.beam.length.factor, "Output at most factor × source pieces + 10")->capture_default_str();
  cmd->add_option("--n-best", o->translate.beam.n_best, "Write the K best as 'i ||| translation ||| score' lines")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--scores", o->scores, "Append ' ||| score' to each translation");
  cmd->add_option("--batch-sentences", o->translate.batch_sentences, "Sentences per batch")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch-tokens", o->translate.batch_tokens, "Source pieces per batch (0: no limit)")->capture_default_str();
  cmd->add_option("--long-lines", o->long_lines, "Lines longer than the model accepts: split or truncate")->capture_default_str();
  cmd->add_option("--max-input-length", o->translate.max_input_pieces, "Treat lines over this many pieces as long (0: the model's limit)")
      ->capture_default_str();
  cmd->add_option("--chunk-lines", o->chunk_lines, "Lines read ahead and sorted together before printing")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--profile", o->profile, "Log where the time went, per backend op, at the end");
  cmd->add_flag("--strict", o->strict, "Stop with an error on invalid UTF-8, before writing anything");
  cmd->callback([&chosen, o] { chosen = [o] { return run_translate(*o); }; });
}

}  // namespace heed::app
