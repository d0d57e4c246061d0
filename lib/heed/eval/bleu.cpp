#include "heed/eval/bleu.h"

#include <fmt/format.h>

#include <cmath>
#include <unordered_map>

#include "heed/core/error.h"
#include "heed/core/version.h"
#include "heed/eval/unicode.h"

namespace heed {
namespace {

constexpr int kMaxOrder = 4;

std::string lowercased(const std::string& s) { return encode_utf8(to_lower(decode_utf8(s))); }

// n-gram counts of a token list, keyed by the tokens joined with spaces (tokens hold none).
std::unordered_map<std::string, int64_t> ngram_counts(const std::vector<std::string>& tokens, int n) {
  std::unordered_map<std::string, int64_t> counts;
  for (size_t i = 0; i + n <= tokens.size(); ++i) {
    std::string key = tokens[i];
    for (int k = 1; k < n; ++k) key.append(" ").append(tokens[i + k]);
    ++counts[key];
  }
  return counts;
}

std::vector<std::string> words_of(const std::string& tokenized) {
  std::vector<std::string> words;
  for (const std::u32string& w : split_whitespace(decode_utf8(tokenized))) words.push_back(encode_utf8(w));
  return words;
}

// sacreBLEU's log, which maps a zero precision to a huge negative number instead of −∞.
double sacrebleu_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

void check_sizes(const char* metric, size_t hypotheses, size_t references) {
  HEED_CHECK(hypotheses == references, "{}: {} hypotheses but {} references; they must have one line each", metric,
             hypotheses, references);
}

}  // namespace

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                      const BleuOptions& options) {
  check_sizes("BLEU", hypotheses.size(), references.size());
  BleuScore s;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const auto prepare = [&](const std::string& line) {
      return words_of(tokenize_for_bleu(options.lowercase ? lowercased(line) : line, options.tokenizer));
    };
    const std::vector<std::string> hyp = prepare(hypotheses[i]);
    const std::vector<std::string> ref = prepare(references[i]);
    s.hypothesis_length += static_cast<int64_t>(hyp.size());
    s.reference_length += static_cast<int64_t>(ref.size());
    for (int n = 1; n <= kMaxOrder; ++n) {
      const auto ref_counts = ngram_counts(ref, n);
      for (const auto& [gram, count] : ngram_counts(hyp, n)) {
        const auto it = ref_counts.find(gram);
        s.matches[n - 1] += it == ref_counts.end() ? 0 : std::min(count, it->second);
        s.totals[n - 1] += count;
      }
    }
  }

  // sacreBLEU's compute_bleu with smooth_method='exp' (mteval-v13a's smoothing).
  if (s.hypothesis_length < s.reference_length)
    s.brevity_penalty = s.hypothesis_length > 0
                            ? std::exp(1.0 - static_cast<double>(s.reference_length) / static_cast<double>(s.hypothesis_length))
                            : 0.0;
  bool any_match = false;
  for (int64_t m : s.matches) any_match = any_match || m > 0;
  if (any_match) {
    double smooth = 1.0;
    for (int n = 0; n < kMaxOrder; ++n) {
      if (s.totals[n] == 0) break;
      if (s.matches[n] == 0) {
        smooth *= 2.0;
        s.precisions[n] = 100.0 / (smooth * static_cast<double>(s.totals[n]));
      } else {
        s.precisions[n] = 100.0 * static_cast<double>(s.matches[n]) / static_cast<double>(s.totals[n]);
      }
    }
    double log_sum = 0.0;
    for (double p : s.precisions) log_sum += sacrebleu_log(p);
    s.score = s.brevity_penalty * std::exp(log_sum / kMaxOrder);
  }
  s.signature = fmt::format("nrefs:1|case:{}|eff:no|tok:{}|smooth:exp|version:heed-{}", options.lowercase ? "lc" : "mixed",
                            to_string(options.tokenizer), kVersion);
  return s;
}

std::string BleuScore::format() const {
  const double ratio = reference_length ? static_cast<double>(hypothesis_length) / static_cast<double>(reference_length) : 0.0;
  return fmt::format("BLEU = {:.2f} {:.1f}/{:.1f}/{:.1f}/{:.1f} (BP = {:.3f} ratio = {:.3f} hyp_len = {} ref_len = {})",
                     score, precisions[0], precisions[1], precisions[2], precisions[3], brevity_penalty, ratio,
                     hypothesis_length, reference_length);
}

ChrfScore corpus_chrf(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                      const ChrfOptions& options) {
  check_sizes("chrF", hypotheses.size(), references.size());
  const int orders = options.char_order;
  // Per order: hypothesis n-grams, reference n-grams, matches, summed over the corpus.
  std::vector<int64_t> hyp_total(orders, 0), ref_total(orders, 0), match_total(orders, 0);
  const auto characters = [&](const std::string& line) {
    std::u32string text = decode_utf8(line);
    if (options.lowercase) text = to_lower(text);
    std::u32string joined;  // ''.join(line.split()): whitespace does not count
    for (const std::u32string& w : split_whitespace(text)) joined += w;
    return joined;
  };
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const std::u32string hyp = characters(hypotheses[i]);
    const std::u32string ref = characters(references[i]);
    for (int n = 1; n <= orders; ++n) {
      std::unordered_map<std::u32string, int64_t> ref_counts;
      for (size_t k = 0; k + n <= ref.size(); ++k) ++ref_counts[ref.substr(k, n)];
      std::unordered_map<std::u32string, int64_t> hyp_counts;
      for (size_t k = 0; k + n <= hyp.size(); ++k) ++hyp_counts[hyp.substr(k, n)];
      for (const auto& [gram, count] : hyp_counts) {
        const auto it = ref_counts.find(gram);
        if (it != ref_counts.end()) match_total[n - 1] += std::min(count, it->second);
      }
      const int64_t hyp_count = hyp.size() >= static_cast<size_t>(n) ? static_cast<int64_t>(hyp.size() - n + 1) : 0;
      const int64_t ref_count = ref.size() >= static_cast<size_t>(n) ? static_cast<int64_t>(ref.size() - n + 1) : 0;
      // As sacreBLEU: a hypothesis's n-grams count only where the reference has n-grams of that order.
      hyp_total[n - 1] += ref_count > 0 ? hyp_count : 0;
      ref_total[n - 1] += ref_count;
    }
  }
  // sacreBLEU's _compute_f_score without eps smoothing: average precision and recall over the
  // orders both sides have, then one F-beta of the averages.
  const double factor = options.beta * options.beta;
  double avg_precision = 0.0, avg_recall = 0.0;
  int effective_order = 0;
  for (int n = 0; n < orders; ++n) {
    if (hyp_total[n] > 0 && ref_total[n] > 0) {
      avg_precision += static_cast<double>(match_total[n]) / static_cast<double>(hyp_total[n]);
      avg_recall += static_cast<double>(match_total[n]) / static_cast<double>(ref_total[n]);
      ++effective_order;
    }
  }
  ChrfScore s;
  s.beta = options.beta;
  if (effective_order > 0) {
    avg_precision /= effective_order;
    avg_recall /= effective_order;
  }
  if (avg_precision + avg_recall > 0.0)
    s.score = 100.0 * (1 + factor) * avg_precision * avg_recall / (factor * avg_precision + avg_recall);
  s.signature = fmt::format("nrefs:1|case:{}|eff:yes|nc:{}|nw:0|space:no|version:heed-{}",
                            options.lowercase ? "lc" : "mixed", options.char_order, kVersion);
  return s;
}

std::string ChrfScore::format() const { return fmt::format("chrF{} = {:.2f}", beta, score); }

}  // namespace heed
