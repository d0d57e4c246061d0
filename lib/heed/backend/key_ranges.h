#pragma once
// Which keys one query of attention sees, as at most two ranges: the arithmetic behind
// VisibleKeys::ranges (backend.h), kept apart from it so that CUDA kernels compute it from the
// same definition as the CPU backends.

#include <cstdint>

#include "heed/core/host_device.h"

namespace heed {

// The keys [0, head_end) and [tail_begin, tail_end), in order; without a window only the second.
struct KeyRanges {
  int64_t head_end, tail_begin, tail_end;
  HEED_HOST_DEVICE int64_t count() const { return head_end + (tail_end - tail_begin); }
  HEED_HOST_DEVICE bool contains(int64_t s) const { return s < head_end || (s >= tail_begin && s < tail_end); }
};

// The query at `position` of a sequence whose keys are [0, end): up to itself if causal, within
// `window` positions of it if window > 0, except that the first `global` positions see and are
// seen by all.
HEED_HOST_DEVICE inline KeyRanges visible_key_ranges(bool causal, int64_t window, int64_t global, int64_t position,
                                                     int64_t end) {
  const auto lesser = [](int64_t a, int64_t b) { return a < b ? a : b; };
  const auto greater = [](int64_t a, int64_t b) { return a > b ? a : b; };
  if (causal) end = lesser(end, position + 1);
  end = greater(end, 0);
  if (window <= 0 || position < global) return {0, 0, end};
  const int64_t head_end = lesser(global, end);
  const int64_t tail_end = lesser(end, position + window + 1);
  return {head_end, lesser(greater(global, position - window), greater(tail_end, head_end)), greater(tail_end, head_end)};
}

}  // namespace heed
