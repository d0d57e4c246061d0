#include "heed/eval/aer.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "heed/core/error.h"

namespace heed {
namespace {

int32_t parse_index(std::string_view text, const std::string& what, std::string_view token) {
  int32_t value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  HEED_CHECK(ec == std::errc() && end == text.data() + text.size() && value >= 0,
             "{}: '{}' is not a link (expected i-j with word indices, e.g. 0-0 3-2)", what, printable(token));
  return value;
}

}  // namespace

GoldLinks parse_links(std::string_view line, const std::string& what, bool allow_possible, const AerOptions& options) {
  GoldLinks links;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t end = i;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
    if (end == i) break;
    const std::string_view token = line.substr(i, end - i);
    i = end;
    const size_t dash = token.find('-');
    const size_t p = allow_possible ? token.find('p') : std::string_view::npos;
    const size_t at = dash != std::string_view::npos ? dash : p;
    HEED_CHECK(at != std::string_view::npos && at > 0,
               "{}: '{}' is not a link (expected i-j{})", what, printable(token), allow_possible ? " or ipj" : "");
    int32_t source = parse_index(token.substr(0, at), what, token);
    int32_t target = parse_index(token.substr(at + 1), what, token);
    if (options.one_based) {
      HEED_CHECK(source >= 1 && target >= 1, "{}: '{}' has a 0 index, but --one-based counts words from 1", what,
                 printable(token));
      --source;
      --target;
    }
    if (options.reverse_gold) std::swap(source, target);
    (at == dash ? links.sure : links.possible).emplace_back(source, target);
  }
  return links;
}

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
    const GoldLinks g = parse_links(gold[k], fmt::format("{}:{}", gold_name, k + 1), true, options);
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
