#include "heed/eval/aer.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "heed/core/error.h"

namespace heed {

std::string AerScore::format() const {
  return fmt::format("AER = {:.2f} (precision {:.2f}, recall {:.2f}; {} sentences, {} predicted links, {} sure and {} "
                     "possible gold links)", aer, precision, recall, sentences, predicted, sure, possible);
}

AerScore corpus_aer(const std::vector<std::string>& hypotheses, const std::vector<std::string>& gold,
                    const std::string& hypothesis_name, const std::string& gold_name, const AerOptions& options) {
  HEED_CHECK(hypotheses.size() == gold.size(), "{} has {} lines but the gold alignments {} have {}", hypothesis_name,
             hypotheses.size(), gold_name, gold.size());
  int64_t a_and_s = 0, a_and_p = 0;
  AerScore score;
  score.sentences = static_cast<int64_t>(gold.size());
  for (size_t k = 0; k < gold.size(); ++k) {
    const GoldLinks g = parse_links(gold[k], fmt::format("{}:{}", gold_name, k + 1), true, {options.one_based, options.reverse_gold});
    const GoldLinks h = parse_links(hypotheses[k], fmt::format("{}:{}", hypothesis_name, k + 1), false);
    const std::set<Link> sure(g.sure.begin(), g.sure.end());
    std::set<Link> possible(g.possible.begin(), g.possible.end());
    possible.insert(sure.begin(), sure.end());
    const std::set<Link> predicted(h.sure.begin(), h.sure.end());
    for (const Link& link : predicted) {
      a_and_s += sure.count(link);
      a_and_p += possible.count(link);
    }
    score.predicted += static_cast<int64_t>(predicted.size());
    score.sure += static_cast<int64_t>(sure.size());
    score.possible += static_cast<int64_t>(possible.size() - sure.size());
  }
  const auto percent = [](double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; };
  score.precision = percent(static_cast<double>(a_and_p), static_cast<double>(score.predicted));
  score.recall = percent(static_cast<double>(a_and_s), static_cast<double>(score.sure));
  const double denominator = static_cast<double>(score.predicted + score.sure);
  score.aer = denominator > 0 ? 100.0 * (1.0 - static_cast<double>(a_and_s + a_and_p) / denominator) : 0.0;
  return score;
}

}  // namespace heed
