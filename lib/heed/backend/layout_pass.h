#pragma once
// LayoutPass: while it lives, a backend skips every op's arithmetic and only lays out memory.
// Running a model in one allocates every buffer a real run of the same shapes will use (and the
// backend's scratch, through Backend::reserve_*_scratch) at the cost of the bookkeeping alone, so
// that a translator can take all its memory before it decodes a sentence without decoding a dummy
// batch first. Memory is filled, copied, uploaded and downloaded as in a real run, so that what a
// model puts on a device once (a table of positions) is there afterwards; what the ops would
// compute stays unwritten, so nothing run in a layout pass may read a result.

#include "heed/backend/backend.h"

namespace heed {

class LayoutPass final : public OpHooks {
 public:
  explicit LayoutPass(Backend& be) : be_(be), previous_(be.set_hooks(this)) {}
  ~LayoutPass() override { be_.set_hooks(previous_); }
  LayoutPass(const LayoutPass&) = delete;
  LayoutPass& operator=(const LayoutPass&) = delete;

  bool before(Backend&, std::string_view, OpKind kind) override { return kind == OpKind::memory; }
  void after(Backend&, std::string_view) override {}

 private:
  Backend& be_;
  OpHooks* previous_;
};

}  // namespace heed
