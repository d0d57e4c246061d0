#pragma once
// Corpus BLEU (Papineni et al. 2002) and chrF (Popović 2015), computed as sacreBLEU 2.x does
// (Post 2018) with its defaults, so that heed's figures can be cited beside anyone's:
// BLEU with 13a tokenisation, exponential smoothing, case-sensitive, one reference; chrF
// with character 6-grams, β = 2, whitespace ignored.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "heed/eval/tokenizer.h"

namespace heed {

struct BleuOptions {
  BleuTokenizer tokenizer = BleuTokenizer::t13a;
  bool lowercase = false;
};

struct BleuScore {
  double score = 0.0;                  // 0..100
  std::array<double, 4> precisions{};  // after smoothing, 0..100
  std::array<int64_t, 4> matches{};
  std::array<int64_t, 4> totals{};
  double brevity_penalty = 1.0;
  int64_t hypothesis_length = 0;
  int64_t reference_length = 0;
  std::string signature;               // sacreBLEU's, with heed's version
  std::string format() const;          // "BLEU = 35.12 67.1/41.2/27.9/19.3 (BP = …)"
};

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                      const BleuOptions& options = {});

struct ChrfOptions {
  int char_order = 6;
  double beta = 2.0;
  bool lowercase = false;
};

struct ChrfScore {
  double score = 0.0;  // 0..100
  double beta = 2.0;
  std::string signature;
  std::string format() const;  // "chrF2 = 61.27"
};

ChrfScore corpus_chrf(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references,
                      const ChrfOptions& options = {});

}  // namespace heed
