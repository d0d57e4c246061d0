// heed score: corpus BLEU and chrF of a translation against its references, computed as
// sacreBLEU computes them, printed in sacreBLEU's text format to two decimals.

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <iterator>

#include "commands.h"
#include "heed/core/error.h"
#include "heed/data/corpus.h"
#include "heed/eval/aer.h"
#include "heed/eval/bleu.h"
#include "heed/eval/unicode.h"

namespace heed::app {
namespace {

struct ScoreOptions {
  std::vector<std::string> metrics = {"bleu"};
  std::string reference;
  std::string hypothesis = "-";
  bool lowercase = false;       // BLEU only, as sacreBLEU's --lowercase
  bool chrf_lowercase = false;  // sacreBLEU's --chrf-lowercase
  std::string tokenize = "13a";
  std::string gold;             // AER: gold links, "i-j" sure and "ipj" possible
  AerOptions aer;
};

// sacreBLEU strips trailing whitespace from every line it reads.
std::vector<std::string> stripped(std::vector<std::string> lines) {
  for (std::string& line : lines) line = rstrip(line);
  return lines;
}

int run_score(const ScoreOptions& o) {
  for (const std::string& metric : o.metrics)  // all checked before any score is printed
    HEED_CHECK(metric == "bleu" || metric == "chrf" || metric == "aer", "unknown metric '{}' (choose bleu, chrf or aer)", metric);
  const bool text_metric = std::any_of(o.metrics.begin(), o.metrics.end(), [](const std::string& m) { return m != "aer"; });
  const bool aer = std::find(o.metrics.begin(), o.metrics.end(), "aer") != o.metrics.end();
  HEED_CHECK(!text_metric || !o.reference.empty(), "BLEU and chrF need the reference translations: -r FILE");
  HEED_CHECK(!aer || !o.gold.empty(), "AER needs the gold alignments: --gold FILE (i-j sure links, ipj possible ones)");
  const std::string hypothesis_name = o.hypothesis == "-" ? "standard input" : o.hypothesis;
  // Translations keep a byte-order mark, as sacreBLEU reads them; links are no text and drop it.
  const ByteOrderMark mark = text_metric ? ByteOrderMark::keep : ByteOrderMark::drop;
  const std::vector<std::string> hypotheses = stripped(o.hypothesis == "-" ? read_lines(std::cin, "standard input", mark) : read_lines(o.hypothesis, mark));
  std::vector<std::string> references;
  if (text_metric) {
    references = stripped(read_lines(o.reference, mark));
    HEED_CHECK(hypotheses.size() == references.size(), "{} has {} lines but the reference {} has {}", hypothesis_name,
               hypotheses.size(), o.reference, references.size());
  }
  for (const std::string& metric : o.metrics) {
    if (metric == "aer") {
      fmt::print("{}\n", corpus_aer(hypotheses, read_lines(o.gold), hypothesis_name, o.gold, o.aer).format());
      continue;
    }
    if (metric == "bleu") {
      const BleuScore s = corpus_bleu(hypotheses, references, {parse_bleu_tokenizer(o.tokenize), o.lowercase});
      const std::string line = s.format();
      fmt::print("BLEU|{} = {}\n", s.signature, line.substr(line.find('=') + 2));
    } else if (metric == "chrf") {
      const ChrfScore s = corpus_chrf(hypotheses, references, {.lowercase = o.chrf_lowercase});
      fmt::print("chrF{}|{} = {:.2f}\n", s.beta, s.signature, s.score);
    } else {
      fail("unknown metric '{}' (choose bleu, chrf or aer)", metric);
    }
  }
  return 0;
}

}  // namespace

void add_score_command(CLI::App& root, Action& chosen) {
  CLI::App* score = root.add_subcommand("score", "Score translations (BLEU, chrF, as sacreBLEU computes them) or word alignments (AER)");
  auto o = std::make_shared<ScoreOptions>();
  score->add_option("-m,--metric", o->metrics, "bleu, chrf (translations) or aer (word alignments), comma-separated")->capture_default_str()->delimiter(',');
  score->add_option("-r,--reference", o->reference, "Reference translations, one per line (BLEU, chrF)");
  score->add_option("-i,--input", o->hypothesis, "Hypotheses, one per line (- for standard input)")->capture_default_str();
  score->add_flag("--lowercase", o->lowercase, "BLEU on lowercased text");
  score->add_flag("--chrf-lowercase", o->chrf_lowercase, "chrF on lowercased text");
  score->add_option("--tokenize", o->tokenize, "BLEU tokenizer: 13a, intl or none")->capture_default_str();
  score->add_option("--gold", o->gold, "Gold word alignments, one line per sentence: i-j sure, ipj possible links (AER)");
  score->add_flag("--one-based", o->aer.one_based, "The gold alignments count words from 1");
  score->add_flag("--reverse-gold", o->aer.reverse_gold, "The gold alignments write target-source links");
  score->callback([&chosen, o] { chosen = [o] { return run_score(*o); }; });
}

}  // namespace heed::app
