#include "heed/model/guided_alignment.h"

#include <cmath>

#include "heed/core/error.h"

namespace heed {

GuidedAlignmentLoss guided_alignment_forward(const Tensor& probs, int64_t head, const Tensor& links, float weight,
                                             const Tensor& d_head) {
  const Shape& p = probs.shape();
  HEED_CHECK(p.rank() == 4 && links.shape() == Shape({p[0], p[2], p[3]}) && d_head.shape() == links.shape(),
             "guided alignment: probabilities {} do not match links {} (expected [B, H, T, S] and [B, T, S])", p.str(),
             links.shape().str());
  HEED_CHECK(head >= 0 && head < p[1], "guided alignment: head {} of {}", head, p[1]);
  const int64_t batch = p[0], heads = p[1], rows = p[2], cols = p[3];
  GuidedAlignmentLoss out;
  const float* g = links.f32();
  float* d = d_head.f32();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < rows; ++t) {
      const float* prob = probs.f32() + ((b * heads + head) * rows + t) * cols;
      const float* target = g + (b * rows + t) * cols;
      float* grad = d + (b * rows + t) * cols;
      bool aligned = false;
      for (int64_t s = 0; s < cols; ++s) {
        if (target[s] == 0.0f) {
          grad[s] = 0.0f;
          continue;
        }
        aligned = true;
        const float q = prob[s] + kGuidedAlignmentEpsilon;
        out.loss -= static_cast<double>(weight) * target[s] * std::log(q);
        grad[s] = -weight * target[s] / q;
      }
      out.aligned_rows += aligned;
    }
  return out;
}

}  // namespace heed
