#pragma once
// Validation during training: the model's cross-entropy on the validation pairs, and the BLEU of
// its beam-search translations of the first N of them.

#include <cstdint>
#include <string>
#include <vector>

#include "heed/data/corpus.h"
#include "heed/decode/beam_search.h"

namespace heed {

struct ValidationOptions {
  int64_t batch_tokens = 4096;         // for the cross-entropy
  int64_t bleu_sentences = 0;          // translate only the first N pairs for BLEU; 0: all
  int64_t decode_batch_sentences = 64;
  BeamOptions beam;
};

struct Validation {
  double cross_entropy = 0.0;  // nats per target token
  double perplexity = 0.0;
  double bleu = 0.0;
};

// `references`: the target line of each of valid's pairs; `target`: the vocabulary that turns the
// translations' pieces into text.
Validation validate(Backend& be, Transformer& model, const Corpus& valid, const std::vector<std::string>& references,
                    const Vocabulary& target, const ValidationOptions& options);

}  // namespace heed
