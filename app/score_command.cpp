// heed score: corpus BLEU and chrF of a translation against its references, computed as
// sacreBLEU computes them, printed in sacreBLEU's text format to two decimals.

#include <fmt/format.h>

#include <iostream>
#include <iterator>

#include "commands.h"
#include "heed/core/error.h"
#include "heed/data/corpus.h"
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
};

// sacreBLEU strips trailing whitespace from every line it reads.
std::vector<std::string> stripped(std::vector<std::string> lines) {
  for (std::string& line : lines) line = rstrip(line);
  return lines;
}

int run_score(const ScoreOptions& o) {
  const std::vector<std::string> references = stripped(read_lines(o.reference));
  const std::vector<std::string> hypotheses = stripped(o.hypothesis == "-" ? read_lines(std::cin, "standard input") : read_lines(o.hypothesis));
  HEED_CHECK(hypotheses.size() == references.size(), "{} has {} lines but the reference {} has {}",
             o.hypothesis == "-" ? "standard input" : o.hypothesis, hypotheses.size(), o.reference, references.size());
  for (const std::string& metric : o.metrics) {
    if (metric == "bleu") {
      const BleuScore s = corpus_bleu(hypotheses, references, {parse_bleu_tokenizer(o.tokenize), o.lowercase});
      const std::string line = s.format();
      fmt::print("BLEU|{} = {}\n", s.signature, line.substr(line.find('=') + 2));
    } else if (metric == "chrf") {
      const ChrfScore s = corpus_chrf(hypotheses, references, {.lowercase = o.chrf_lowercase});
      fmt::print("chrF{}|{} = {:.2f}\n", s.beta, s.signature, s.score);
    } else {
      fail("unknown metric '{}' (choose bleu or chrf)", metric);
    }
  }
  return 0;
}

}  // namespace

void add_score_command(CLI::App& root, Action& chosen) {
  CLI::App* score = root.add_subcommand("score", "Score a translation against references: BLEU and chrF, as sacreBLEU computes them");
  auto o = std::make_shared<ScoreOptions>();
  score->add_option("-m,--metric", o->metrics, "bleu, chrf, or both")->capture_default_str()->delimiter(',');
  score->add_option("-r,--reference", o->reference, "Reference translations, one per line")->required();
  score->add_option("-i,--input", o->hypothesis, "Hypotheses, one per line (- for standard input)")->capture_default_str();
  score->add_flag("--lowercase", o->lowercase, "BLEU on lowercased text");
  score->add_flag("--chrf-lowercase", o->chrf_lowercase, "chrF on lowercased text");
  score->add_option("--tokenize", o->tokenize, "BLEU tokenizer: 13a, intl or none")->capture_default_str();
  score->callback([&chosen, o] { chosen = [o] { return run_score(*o); }; });
}

}  // namespace heed::app
