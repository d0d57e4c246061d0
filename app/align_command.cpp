// heed align: word alignments of given sentence pairs from the model's cross-attention, one line
// per pair, as Pharaoh links (i-j, source word i, target word j, from 0) or soft distributions.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>

#include "commands.h"
#include "default_model.h"
#include "option_checks.h"
#include "output_checks.h"
#include "heed/align/aligner.h"
#include "heed/align/writers.h"
#include "heed/devices/devices.h"
#include "heed/core/error.h"
#include "heed/core/system_memory.h"
#include "heed/core/file_io.h"
#include "heed/model/model_file.h"
#include "heed/text/clean_text.h"
#include "heed/text/utf8.h"

namespace heed::app {
namespace {

struct AlignCliOptions {
  std::string model, reverse_model, source, target, output = "-";
  std::string format = "pharaoh";
  std::string step;  // empty: the model's
  std::string symmetrize;  // empty: the model's, else grow-diag
  std::vector<int32_t> layers;
  AlignOptions align;
};

// Lines as they are (invalid UTF-8 included: such a pair gets an empty line and a warning).
std::vector<std::string> raw_lines(const std::string& path) {
  check_input_file(path, true);
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(std::move(line));
  HEED_CHECK(!in.bad(), "cannot read {}", path);
  return lines;
}

int run_align(AlignCliOptions o, const DeviceSpec& device) {
  HEED_CHECK(o.format == "pharaoh" || o.format == "soft" || o.format == "json" || o.format == "html",
             "--format must be pharaoh, soft, json or html, got '{}'", o.format);
  if (!o.step.empty()) o.align.step = parse_alignment_step(o.step);
  if (!o.symmetrize.empty()) o.align.symmetrization = parse_symmetrization(o.symmetrize, "--symmetrize");
  o.align.layers = o.layers;
  o.model = o.model.empty() ? default_model_path().string() : resolve_model(o.model);
  o.reverse_model = resolve_model(o.reverse_model);
  check_output_is_not_input(o.output, {{"--src", o.source}, {"--tgt", o.target}, {"-m", o.model}, {"--reverse-model", o.reverse_model}});
  const std::vector<std::string> sources = raw_lines(o.source), targets = raw_lines(o.target);
  HEED_CHECK(sources.size() == targets.size(), "the sides do not match: {} has {} lines but {} has {}; line i of one must "
             "translate line i of the other", o.source, sources.size(), o.target, targets.size());
  const auto start = std::chrono::steady_clock::now();
  LoadedModel loaded = load_model(o.model);
  const ModelVocabularies vocab = vocabularies_of(loaded.extras, o.model);
  // The symmetrisation the model was tuned with (`heed convert --symmetrize`) unless one is asked for.
  if (const auto tuned = metadata_value(loaded.extras.metadata, kAlignSymmetrizeKey); tuned && o.symmetrize.empty()) {
    o.align.symmetrization = parse_symmetrization(*tuned, o.model + "'s metadata " + std::string(kAlignSymmetrizeKey));
    spdlog::info("links symmetrised by {} (the model's; --symmetrize overrides it)", *tuned);
  }
  auto be = make_backend(device);
  Aligner aligner(*be, *loaded.model, *vocab.source, *vocab.target, o.align);
  // --reverse-model: a model of the other direction aligns each pair the other way round; each
  // side's best words under its own model are then symmetrised.
  std::optional<LoadedModel> reverse_loaded;
  std::optional<ModelVocabularies> reverse_vocab;
  std::optional<Aligner> reverse;
  if (!o.reverse_model.empty()) {
    reverse_loaded = load_model(o.reverse_model);
    reverse_vocab = vocabularies_of(reverse_loaded->extras, o.reverse_model);
    reverse.emplace(*be, *reverse_loaded->model, *reverse_vocab->source, *reverse_vocab->target, o.align);
  }

  std::ofstream file_out;
  if (o.output != "-") {
    file_out.open(o.output, std::ios::binary | std::ios::trunc);
    HEED_CHECK(file_out.good(), "cannot write {}: {}", o.output, std::strerror(errno));
  }
  std::ostream& out = o.output == "-" ? std::cout : file_out;
  const bool html = o.format == "html";
  if (html) out << html_begin(fmt::format("heed align: {} ↔ {}", o.source, o.target));
  int64_t empty = 0, invalid = 0, too_long = 0, links = 0;
  for (size_t i = 0; i < sources.size(); ++i) {
    std::string source = sources[i], target = targets[i];
    const auto bad_source = find_invalid_utf8(source), bad_target = find_invalid_utf8(target);
    std::string line;
    if (bad_source || bad_target) {
      spdlog::warn("line {}: invalid UTF-8 in {} at byte {}; writing an empty line", i + 1, bad_source ? o.source : o.target,
                   (bad_source ? *bad_source : *bad_target) + 1);
      ++invalid;
    } else {
      for (std::string* side : {&source, &target})
        if (const size_t removed = remove_control_characters(*side))
          spdlog::warn("line {}: removed {} control character(s) (NUL and the like; tab is kept)", i + 1, removed);
      if (is_blank(source) || is_blank(target)) {
        ++empty;
      } else {
        PairAlignment a = aligner.align(source, target);
        if (reverse && !a.too_long) {
          const PairAlignment r = reverse->align(target, source);
          a.too_long = r.too_long;
          a.links = r.too_long ? std::vector<Link>{} : combine_directions(a.words, r.words, o.align.symmetrization, o.align.threshold);
        }
        if (a.too_long) {
          spdlog::warn("line {}: longer than the model's {} positions; writing an empty line", i + 1,
                       loaded.model->config().max_positions);
          ++too_long;
        }
        line = o.format == "soft" ? soft_line(a) : o.format == "json" ? json_line(a) : html ? html_pair(a, static_cast<int64_t>(i) + 1)
                                                                                           : pharaoh(a.links);
        links += static_cast<int64_t>(a.links.size());
      }
    }
    if (o.format == "json" && line.empty()) line = json_line(PairAlignment{});  // an object on every line
    if (!html) out << line << '\n';
    else out << (line.empty() ? fmt::format("<h2>line {}: nothing to align</h2>\n", i + 1) : line);
  }
  if (html) out << html_end();
  out.flush();
  HEED_CHECK(out.good(), "cannot write the alignments to {}: {}", o.output == "-" ? "standard output" : o.output, std::strerror(errno));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("aligned {} pairs in {:.2f} s: {} links ({} empty, {} invalid, {} too long); peak memory {:.0f} MB",
               sources.size(), seconds, links, empty, invalid, too_long, static_cast<double>(peak_resident_bytes()) / 1e6);
  return 0;
}

}  // namespace

void add_align_command(CLI::App& root, Action& chosen, const DeviceSpec& device) {
  CLI::App* cmd = root.add_subcommand("align", "Word alignments of sentence pairs from the model's cross-attention (Pharaoh i-j)");
  auto o = std::make_shared<AlignCliOptions>();
  cmd->add_option("-m,--model", o->model, "A heed model file, or an installed model's name (en-de, de-en; default: en-de)");
  cmd->add_option("--src", o->source, "Source sentences, one a line")->required();
  cmd->add_option("--tgt", o->target, "Their translations, line by line (a reference, or another system's output)")->required();
  cmd->add_option("-o,--output", o->output, "Where to write the alignments (- for standard output)")->capture_default_str();
  cmd->add_option("--format", o->format, "pharaoh (i-j word links), soft (each target word's attention over the source words), json (words, links and matrix per line) or html (one page of heat-maps)")
      ->capture_default_str();
  cmd->add_option("--layers", o->layers, "Decoder layers whose cross-attention is averaged (default: all, or the guided layer)")->delimiter(',');
  cmd->add_option("--head", o->align.head, "One attention head, or -1: all heads averaged (default: the guided head of a model trained with --guided-alignment, else all)")->check(number_in(-1, 1024));
  cmd->add_option("--reverse-model", o->reverse_model, "A model of the opposite direction (target to source): its links and this model's are symmetrised (--symmetrize)");
  cmd->add_option("--step", o->step, "predict (the step that predicts a word) or shift (the step whose input it is); default: the step a guided model was trained at, else predict");
  cmd->add_option("--symmetrize", o->symmetrize,
                  "How row and column maxima (or the two models' links) combine: intersection, union, grow-diag, "
                  "grow-diag-final-and (default: the one the model was tuned with, `heed convert --symmetrize`, else grow-diag)");
  cmd->add_option("--threshold", o->align.threshold, "Ignore maxima below this attention weight")->capture_default_str()->check(number_in(0, 1));
  cmd->callback([&chosen, &device, o] { chosen = [&device, o] { return run_align(*o, device); }; });
}

}  // namespace heed::app
