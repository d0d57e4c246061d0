#pragma once
// Alignment error rate (Och & Ney 2003): how well predicted word links A match gold links made of
// sure links S and possible links P (S ⊆ P):
//   precision = |A ∩ P| / |A|,  recall = |A ∩ S| / |S|,  AER = 1 − (|A ∩ S| + |A ∩ P|) / (|A| + |S|).
// Links are Pharaoh pairs "i-j" (source word i, target word j); gold files mark possible links
// "ipj". Counts are summed over the corpus before dividing, as every aligner's evaluation does.

#include <cstdint>
#include <string>
#include <vector>

#include "heed/data/links.h"

namespace heed {

struct AerOptions {
  bool one_based = false;     // the gold file counts words from 1
  bool reverse_gold = false;  // the gold file writes target-source
};

struct AerScore {
  double aer = 0.0, precision = 0.0, recall = 0.0;  // in percent
  int64_t sentences = 0, predicted = 0, sure = 0, possible = 0;
  std::string format() const;  // "AER = 24.70 (precision 80.12, recall 70.25; ...)"
};

// hypotheses[k] and gold[k]: the links of sentence k.
AerScore corpus_aer(const std::vector<std::string>& hypotheses, const std::vector<std::string>& gold,
                    const std::string& hypothesis_name, const std::string& gold_name, const AerOptions& options);

}  // namespace heed
