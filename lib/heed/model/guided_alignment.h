#pragma once
// Guided alignment (Garg et al. 2019, "Jointly Learning to Align and Translate with Transformer
// Models"; Marian's --guided-alignment): one cross-attention head of one decoder layer is taught
// to attend where an external aligner (eflomal, fast_align) links the words, by a cross-entropy
// term added to the translation loss:
//   L = weight · Σ_b Σ_t Σ_s G[b,t,s] · −log(P[b,h,t,s] + ε)
// G holds, for each target position, its links spread evenly over the linked source pieces (a
// row sums to 1, or is all zeros where the target piece has no link: those rows add nothing).
// The head is then the model's aligner: `heed align` reads it by default.

#include <cstdint>

#include "heed/core/tensor.h"

namespace heed {

struct GuidedAlignmentLoss {
  double loss = 0.0;        // weight · Σ of the rows' cross-entropies
  int64_t aligned_rows = 0;  // target positions with at least one link
};

// probs [B, H, T, S]: attention probabilities; links [B, T, S]: G as above. Writes
// d_head [B, T, S] = ∂L/∂P[:, head] (zero where G is zero).
GuidedAlignmentLoss guided_alignment_forward(const Tensor& probs, int64_t head, const Tensor& links, float weight,
                                             const Tensor& d_head);

// The smallest probability the logarithm sees: a head that attends nowhere near a link gets a
// large but finite gradient, never an infinite one.
inline constexpr float kGuidedAlignmentEpsilon = 1e-6f;

}  // namespace heed
