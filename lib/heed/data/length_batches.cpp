#include "heed/data/length_batches.h"

#include <algorithm>

namespace heed {

BatchPlan batches_by_length(std::vector<int32_t> order, const std::vector<int64_t>& lengths, BatchLimits limits,
                            const std::vector<int64_t>* tie_break) {
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (lengths[a] != lengths[b] || tie_break == nullptr) return lengths[a] < lengths[b];
    return (*tie_break)[a] < (*tie_break)[b];
  });
  BatchPlan plan;
  std::vector<int32_t> current;
  int64_t longest = 0;
  for (int32_t i : order) {
    const int64_t count = static_cast<int64_t>(current.size()) + 1;
    const int64_t padded = std::max(longest, lengths[i]) * count;
    if (!current.empty() && ((limits.tokens > 0 && padded > limits.tokens) ||
                             (limits.sentences > 0 && count > limits.sentences))) {
      plan.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, lengths[i]);
  }
  if (!current.empty()) plan.push_back(std::move(current));
  return plan;
}

}  // namespace heed
