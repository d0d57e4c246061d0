// heed translate: text in, translation out, one line per line, streaming in chunks so that a
// large input starts printing early.

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <charconv>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <optional>
#include <utility>

#include "commands.h"
#include "option_checks.h"
#include "output_checks.h"
#include "default_model.h"
#include "input_lines.h"
#include "heed/align/aligner.h"
#include "heed/devices/devices.h"
#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/system_memory.h"
#include "heed/core/threads.h"
#include "heed/backend/op_profiler.h"
#include "heed/decode/translator.h"
#include "heed/model/model_file.h"
#include "heed/text/clean_text.h"
#include "heed/text/utf8.h"

namespace heed::app {
namespace {

struct TranslateCliOptions {
  std::vector<std::string> models;
  std::string input = "-";
  std::string output = "-";
  TranslateOptions translate;
  std::string long_lines = "split";
  std::string split_sentences = "any";
  bool strict = false;
  bool scores = false;
  bool profile = false;
  bool alignments = false;
  int64_t chunk_lines = 1000;
  int workers = 0;  // 0: one per thread
  std::string precision;  // empty: the model's
  bool normalize_given = false;  // --normalize on the command line, over the model's α
};

// `alignments`: for each of line.texts, its links to the source (" ||| i-j ..." is appended),
// or empty when not asked for.
void write_line(std::ostream& out, int64_t index, const TranslatedLine& line, const std::vector<std::string>& alignments,
                const TranslateCliOptions& o) {
  const auto links = [&](size_t h) { return alignments.empty() ? std::string() : " ||| " + alignments[h]; };
  if (o.translate.beam.n_best > 1) {
    for (size_t h = 0; h < line.texts.size(); ++h)
      out << fmt::format("{} ||| {} ||| {:.4f}{}\n", index, line.texts[h], line.scores[h], links(h));
  } else if (o.scores) {
    out << fmt::format("{} ||| {:.4f}{}\n", line.texts[0], line.scores[0], links(0));
  } else {
    out << line.texts[0] << links(0) << '\n';
  }
}

// Each hypothesis teacher-forced against its source line, as `heed align` does (Marian's
// --alignment convention: the links follow the translation after " ||| "). A line translated
// sentence by sentence is aligned so too, each sentence's links moved by the words before it,
// so that they count the whole line's words.
std::vector<std::string> align_hypotheses(Aligner& aligner, const std::string& source, const TranslatedLine& line) {
  std::vector<std::string> out(line.texts.size());
  if (find_invalid_utf8(source)) return out;
  std::string clean = source;
  remove_control_characters(clean);
  for (size_t h = 0; h < line.texts.size(); ++h) {
    if (line.texts[h].empty()) continue;
    if (line.source_sentences.empty()) {
      out[h] = pharaoh(aligner.align(clean, line.texts[h]).links);
      continue;
    }
    std::vector<Link> links;
    int32_t source_words = 0, target_words = 0;
    for (size_t s = 0; s < line.source_sentences.size(); ++s) {
      const PairAlignment a = aligner.align(line.source_sentences[s], line.sentence_texts[h][s]);
      for (const auto& [from, to] : a.links) links.emplace_back(from + source_words, to + target_words);
      source_words += a.source_words;
      target_words += a.target_words;
    }
    out[h] = pharaoh(links);
  }
  return out;
}

// The longest side `heed train` kept (its --max-length, stored in the model's metadata): the
// model never saw longer sentences, so longer lines are split to this length. 0 when unknown.
int64_t trained_max_length(const std::string& metadata) {
  const auto text = metadata_value(metadata, "max-length");
  if (!text) return 0;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  return ec == std::errc() && value > 0 ? value : 0;
}

// Text the vocabulary cuts into many more pieces a word than the model's training text is text
// of another kind (on Multi30k's captions model: its training captions 1.23, test2016 1.23,
// Tatoeba's everyday sentences 1.82, WMT news 2.17): warned about once, after enough words to
// tell, so that a user does not trust what the model makes of it.
class DomainCheck {
 public:
  explicit DomainCheck(std::optional<double> trained) : trained_(trained) {}
  void look(const TranslateStats& s) {
    constexpr double kFactor = 1.4;  // between in-domain text (1.0) and Tatoeba (1.48) on the caption models
    constexpr int64_t kEnoughWords = 8;
    if (!trained_ || warned_ || s.source_words < kEnoughWords) return;
    const double cut = static_cast<double>(s.source_pieces) / static_cast<double>(s.source_words);
    if (cut <= kFactor * *trained_) return;
    warned_ = true;
    spdlog::warn("the input is cut into {:.2f} pieces a word, the model's training text into {:.2f}: it looks unlike "
                 "what the model learned from, whose translations of such text are often wrong",
                 cut, *trained_);
  }

 private:
  std::optional<double> trained_;
  bool warned_ = false;
};

int run_translate(TranslateCliOptions o, const DeviceSpec& device) {
  HEED_CHECK(o.long_lines == "split" || o.long_lines == "truncate", "--long-lines must be split or truncate, got '{}'", o.long_lines);
  o.translate.long_lines = o.long_lines == "split" ? LongLines::split : LongLines::truncate;
  o.translate.split_sentences = o.split_sentences != "none";
  if (o.translate.split_sentences) o.translate.sentence_language = parse_sentence_language(o.split_sentences, "--split-sentences");
  if (o.models.empty()) {
    o.models.push_back(default_model_path().string());
    HEED_CHECK(std::filesystem::exists(o.models[0]),
               "no model given (-m MODEL) and the default model {} is missing (it is installed beside the "
               "binary, in ../share/heed/; HEED_DEFAULT_MODEL names another)", o.models[0]);
    spdlog::info("using the default model {}", o.models[0]);
  }
  for (std::string& model : o.models) model = resolve_model(model);
  std::vector<NamedInput> inputs{{"-i", o.input}};
  for (const std::string& model : o.models) inputs.push_back({"-m", model});
  check_output_is_not_input(o.output, inputs);
  const auto start = std::chrono::steady_clock::now();
  // Several -m: an ensemble, which must read and write the same pieces.
  std::vector<LoadedModel> ensemble;
  std::vector<Transformer*> models;
  for (const std::string& path : o.models) {
    // Prepared for translation before anything reads the weights: an int8 file's codes stay codes.
    ensemble.push_back(load_model(path, Int8Tensors::as_codes));
    models.push_back(ensemble.back().model.get());
    const auto& first = ensemble.front().extras.vocabularies;
    const auto& these = ensemble.back().extras.vocabularies;
    bool same = first.size() == these.size();
    for (size_t v = 0; same && v < first.size(); ++v) same = first[v].name == these[v].name && first[v].bytes == these[v].bytes;
    HEED_CHECK(same, "{} cannot join an ensemble with {}: their vocabularies differ", path, o.models[0]);
  }
  if (models.size() > 1) spdlog::info("ensemble of {} models: their log-probabilities averaged at every step", models.size());
  const LoadedModel& loaded = ensemble.front();
  const ModelVocabularies vocab = vocabularies_of(loaded.extras, o.models[0]);
  // Lines longer than the training data are split where the model never saw such lengths; a
  // model with local attention saw every distance it attends over, so it takes whole lines up to
  // its positions.
  if (o.translate.max_input_pieces == 0 && loaded.model->config().attention_window == 0)
    o.translate.max_input_pieces = trained_max_length(loaded.extras.metadata);
  // A sentence too long for the model is cut into runs of about the length it learned from: on
  // test2016's captions run together 20 at a time without end marks, runs of 16 pieces (their
  // mean, 14.6) scored BLEU 22.5 where runs of 32 scored 17.7 and of the 100-piece limit 4.5
  // (keeping 3,951, 3,320 and 1,618 of 4,200 words).
  if (const auto mean = model_source_pieces_per_sentence(loaded.extras, o.models[0]))
    o.translate.long_sentence_part = static_cast<int64_t>(std::ceil(*mean));
  // The model's tuned α (from `heed convert --normalize`) unless the command line gives one.
  if (const auto alpha = model_length_normalization(loaded.extras, o.models[0]); alpha && !o.normalize_given) {
    o.translate.beam.length_penalty = *alpha;
    spdlog::info("length normalisation α {} (the model's; --normalize overrides it)", *alpha);
  }
  o.translate.beam.scoring = model_beam_scoring(loaded.extras, o.models[0]);
  o.translate.beam.scores = o.scores || o.translate.beam.n_best > 1;  // printed only then
  o.translate.precision = o.precision.empty() ? model_precision(loaded.extras, o.models[0]) : parse_precision(o.precision, "--precision");
  // --threads is the total: --workers of them (by default one per thread) share it evenly.
  const int threads = current_threads();
  const int64_t table_bytes = output_table_bytes(loaded.model->config(), o.translate.precision);
  int workers = o.workers == 0 ? default_workers(threads, table_bytes) : std::min(o.workers, threads);
  if (o.workers == 0 && workers < threads)
    spdlog::info("one worker of {} threads: the output table ({:.0f} MB at {}) is read from memory at every step, once "
                 "for all rows (--workers overrides)", threads, static_cast<double>(table_bytes) / 1e6,
                 precision_name(o.translate.precision));
  if (o.profile && workers > 1) {
    spdlog::info("--profile: one worker with {} threads, so that the op times add up", threads);
    workers = 1;
  }
  o.translate.threads_per_worker = std::max(1, threads / workers);
  std::vector<std::unique_ptr<Backend>> backends;
  for (int w = 0; w < workers; ++w) backends.push_back(make_backend(device));
  OpProfiler profiler;
  std::optional<ProfiledScope> profiled;
  if (o.profile) profiled.emplace(*backends[0], profiler);
  std::vector<Backend*> worker_backends;
  for (const auto& b : backends) worker_backends.push_back(b.get());
  Backend& be = *worker_backends[0];
  Translator translator(worker_backends, models, *vocab.source, *vocab.target, o.translate);
  spdlog::debug("{} worker(s) of {} thread(s) each", workers, o.translate.threads_per_worker);
  std::unique_ptr<Aligner> aligner;
  if (o.alignments) aligner = std::make_unique<Aligner>(be, *loaded.model, *vocab.source, *vocab.target, AlignOptions{});

  InputLines input(o.input);
  if (o.strict) input.check_all_utf8();  // every line checked before anything is written

  std::ofstream file_out;
  if (o.output != "-") {
    file_out.open(o.output, std::ios::binary | std::ios::trunc);
    HEED_CHECK(file_out.good(), "cannot write {}: {}", o.output, std::strerror(errno));
  }
  std::ostream& out = o.output == "-" ? std::cout : file_out;

  DomainCheck domain(model_source_pieces_per_word(loaded.extras, o.models[0]));
  int64_t next_line = 1;
  std::vector<std::string> chunk;
  while (true) {
    chunk.clear();
    std::string line;
    while (static_cast<int64_t>(chunk.size()) < o.chunk_lines && input.next(line)) chunk.push_back(std::move(line));
    if (chunk.empty()) break;
    const std::vector<TranslatedLine> lines = translator.translate(chunk, next_line);
    domain.look(translator.stats());
    for (size_t i = 0; i < lines.size(); ++i)
      write_line(out, next_line - 1 + static_cast<int64_t>(i), lines[i],
                 aligner ? align_hypotheses(*aligner, chunk[i], lines[i]) : std::vector<std::string>(), o);
    out.flush();
    HEED_CHECK(out.good(), "cannot write the translation to {}: {}", o.output == "-" ? "standard output" : o.output, std::strerror(errno));
    next_line += static_cast<int64_t>(chunk.size());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const TranslateStats& s = translator.stats();
  spdlog::info("translated {} lines in {:.2f} s: {:.1f} sentences/s, {:.0f} target tokens/s ({} of several sentences, {} empty, "
               "{} invalid, {} {}); peak memory {:.0f} MB",
               s.lines, seconds, static_cast<double>(s.lines) / seconds, static_cast<double>(s.target_pieces) / seconds,
               s.split_lines, s.empty, s.invalid, s.long_lines,
               o.translate.long_lines == LongLines::split ? "long lines split into parts" : "long lines truncated",
               static_cast<double>(peak_resident_bytes()) / 1e6);
  spdlog::debug("memory: tensors held at most {:.0f} MB (weights, and each worker's activations and caches)",
                static_cast<double>(tensor_memory().peak) / 1048576.0);
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

void add_translate_command(CLI::App& root, Action& chosen, const DeviceSpec& device) {
  CLI::App* cmd = root.add_subcommand("translate", "Translate text from a file or stdin with batched beam search");
  auto o = std::make_shared<TranslateCliOptions>();
  cmd->add_option("-m,--model", o->models, "A heed model file, or an installed model's name (en-de, de-en; default: en-de); several -m: an ensemble")->take_all()->allow_extra_args(false);
  cmd->add_option("-i,--input", o->input, "Text to translate, one sentence a line (- for standard input)")->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Where to write the translation (- for standard output)")->capture_default_str();
  cmd->add_option("--beam", o->translate.beam.beam, "Beam size (1: greedy)")->capture_default_str()->check(number_in(1, 256));
  CLI::Option* normalize = cmd->add_option("--normalize", o->translate.beam.length_penalty,
                                           "Length normalisation α: score / length^α (default: the model's, if `heed convert` stored one)")
                               ->capture_default_str()->check(number_in(0, 10));
  cmd->add_option("--max-length-factor", o->translate.beam.length.factor, "Output at most factor × source pieces + 10")->capture_default_str()->check(number_in(0, 1000));
  cmd->add_option("--max-output-length", o->translate.beam.length.most,
                  "Output at most this many pieces, whatever the source's length (0: only the factor's limit)")
      ->check(number_in(0, 1000000));
  cmd->add_option("--n-best", o->translate.beam.n_best, "Write the K best as 'i ||| translation ||| score' lines")
      ->capture_default_str()->check(number_in(1, 256));
  cmd->add_flag("--scores", o->scores, "Append ' ||| score' to each translation");
  cmd->add_option("--batch-sentences", o->translate.batch_sentences, "Sentences per batch (0: 64 / beam, between 8 and 16; greedy on one worker 32; twice that for an output table over 48 MB at the matmul precision)")->capture_default_str()->check(number_in(0, 1e6));
  cmd->add_option("--batch-tokens", o->translate.batch_tokens, "Source pieces per batch, padding counted (the longest × the sentences; 0: no limit)")->capture_default_str()->check(number_in(0, 1e9));
  cmd->add_option("--split-sentences", o->split_sentences,
                  "Translate each sentence of a line on its own, joined back into one line: en, de or fr (that language's "
                  "abbreviations do not end a sentence), any (all of theirs), or none (whole lines)")
      ->capture_default_str();
  cmd->add_option("--long-lines", o->long_lines, "Lines longer than the model accepts: split or truncate")->capture_default_str();
  cmd->add_option("--max-input-length", o->translate.max_input_pieces, "Split lines over this many pieces (0: the length the model was trained on; with local attention, its positions)")
      ->capture_default_str()->check(number_in(0, 1e6));
  cmd->add_option("--chunk-lines", o->chunk_lines, "Lines read ahead and sorted together before printing")
      ->capture_default_str()->check(number_in(1, 1e9));
  cmd->add_option("--precision", o->precision, "The matmuls' precision: f32, bf16 or int8 (default: the model's, f32 unless `heed convert` chose another)");
  cmd->add_option("--workers", o->workers, "Batches translated side by side, each by one worker with --threads / N threads; one copy of the weights (0: one worker per thread, or one worker for a model whose output table outgrows the caches)")
      ->capture_default_str()->check(number_in(0, 1024));
  cmd->add_flag("--profile", o->profile, "Log where the time went, per backend op, at the end");
  cmd->add_flag("--alignments", o->alignments, "Append ' ||| ' and each translation's word links to its source (i-j, as heed align)");
  cmd->add_flag("--strict", o->strict, "Stop with an error on invalid UTF-8, before writing anything");
  cmd->callback([&chosen, &device, o, normalize] {
    o->normalize_given = normalize->count() > 0;
    chosen = [&device, o] { return run_translate(*o, device); };
  });
}

}  // namespace heed::app
