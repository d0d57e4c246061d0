#include "heed/backend/op_profiler.h"

#include <algorithm>

namespace heed {

// On a GPU each op waits for its kernels before its clock stops (a queue of launches would
// otherwise be charged to whichever op first reads memory back).
bool OpProfiler::before(Backend& be, std::string_view, OpKind) {
  be.synchronize();
  start_ = std::chrono::steady_clock::now();
  return true;
}

void OpProfiler::after(Backend& be, std::string_view op) {
  be.synchronize();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  auto entry = std::find_if(profile_.begin(), profile_.end(), [&](const OpProfile& p) { return p.name == op; });
  if (entry == profile_.end()) entry = profile_.insert(profile_.end(), OpProfile{std::string(op), 0, 0.0});
  entry->calls += 1;
  entry->seconds += seconds;
}

std::vector<OpProfile> OpProfiler::report() const {
  std::vector<OpProfile> ops = profile_;
  std::stable_sort(ops.begin(), ops.end(), [](const OpProfile& a, const OpProfile& b) { return a.seconds > b.seconds; });
  return ops;
}

}  // namespace heed
