#pragma once
// OpProfiler: hooks (backend.h) that add up the wall time and calls of each backend op, so that
// `heed bench model` and `heed translate --profile` can say where the time goes.

#include <chrono>
#include <string>
#include <vector>

#include "heed/backend/backend.h"

namespace heed {

struct OpProfile {
  std::string name;
  int64_t calls = 0;
  double seconds = 0.0;
};

class OpProfiler final : public OpHooks {
 public:
  bool before(Backend& be, std::string_view op, OpKind kind) override;
  void after(Backend& be, std::string_view op) override;

  // Ops with at least one call, slowest first.
  std::vector<OpProfile> report() const;
  void reset() { profile_.clear(); }

 private:
  std::vector<OpProfile> profile_;  // in the order of their first call
  std::chrono::steady_clock::time_point start_;
};

// Profiles every op of `be` while it lives.
class ProfiledScope {
 public:
  ProfiledScope(Backend& be, OpProfiler& profiler) : be_(be), previous_(be.set_hooks(&profiler)) {}
  ~ProfiledScope() { be_.set_hooks(previous_); }
  ProfiledScope(const ProfiledScope&) = delete;
  ProfiledScope& operator=(const ProfiledScope&) = delete;

 private:
  Backend& be_;
  OpHooks* previous_;
};

}  // namespace heed
