#pragma once
// Word alignments of a given sentence pair from the model's cross-attention: the pair is
// teacher-forced (the target is the one given, not the model's own translation), the attention
// of the chosen decoder layers and heads is averaged, and word_links.h turns it into links.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "heed/align/word_links.h"
#include "heed/backend/backend.h"
#include "heed/model/transformer.h"

namespace heed {

// AlignOptions::head's default: a model trained with guided alignment is read at its guided head
// (the layer and head in its config), any other at every head of every layer, averaged.
inline constexpr int32_t kModelsAlignmentHead = -2;

struct AlignOptions {
  std::vector<int32_t> layers;  // decoder layers to average; empty: all (or the guided layer, see below)
  int32_t head = kModelsAlignmentHead;  // one head; -1: all heads averaged; kModelsAlignmentHead: see above
  std::optional<AlignmentStep> step;  // unset: the step the model's guided head was trained at (predict if none)
  Symmetrization symmetrization = Symmetrization::grow_diag;
  float threshold = 0.0f;  // ignore maxima below this attention weight
};

struct PairAlignment {
  std::vector<Link> links;  // (source word, target word)
  AttentionMatrix words;    // [target words × source words], each row summing to at most 1
  int32_t source_words = 0, target_words = 0;
  std::vector<std::string> source, target;  // the words, as the indices count them
  bool too_long = false;    // a side had more pieces than the model's positions: no links
};

class Aligner {
 public:
  Aligner(Backend& be, Transformer& model, const Vocabulary& source, const Vocabulary& target, AlignOptions options);
  PairAlignment align(std::string_view source, std::string_view target);

 private:
  Backend& be_;
  Transformer& model_;
  const Vocabulary& source_;
  const Vocabulary& target_;
  AlignOptions options_;
  Tensor probs_staging_;  // attention read back from a device backend
};

}  // namespace heed
