#include "heed/dist/gradient_reducer.h"

#include <algorithm>

namespace heed {

GradientReducer::GradientReducer(Communicator& comm) : comm_(comm) {
  if (comm_.size() > 1 && comm_.allows_helper_thread()) worker_ = std::thread([this] { sum_in_order(); });
}

GradientReducer::~GradientReducer() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void GradientReducer::start(float* arena, int64_t size, const std::vector<Range>& buckets) {
  std::lock_guard lock(mutex_);
  arena_ = arena;
  size_ = size;
  buckets_ = buckets;
  uncovered_ = uncovered();
  ready_.assign(buckets_.size(), false);
  next_ = 0;
  active_ = comm_.size() > 1;
  changed_.notify_all();
}

void GradientReducer::ready(int64_t begin, int64_t end) {
  std::lock_guard lock(mutex_);
  if (!active_) return;
  const auto it = std::find(buckets_.begin(), buckets_.end(), Range{begin, end});
  if (it == buckets_.end()) return;  // not a bucket: summed with the rest in finish()
  ready_[static_cast<size_t>(it - buckets_.begin())] = true;
  changed_.notify_all();
}

std::vector<GradientReducer::Range> GradientReducer::uncovered() const {
  std::vector<Range> sorted = buckets_, rest;
  std::sort(sorted.begin(), sorted.end());
  int64_t covered = 0;
  for (const auto& [begin, end] : sorted) {
    if (begin > covered) rest.emplace_back(covered, begin);
    covered = std::max(covered, end);
  }
  if (covered < size_) rest.emplace_back(covered, size_);
  return rest;
}

void GradientReducer::finish() {
  std::unique_lock lock(mutex_);
  if (!active_) return;
  if (worker_.joinable()) {
    ready_.assign(buckets_.size(), true);
    changed_.notify_all();
    changed_.wait(lock, [this] { return next_ == buckets_.size(); });
  } else {
    for (const auto& [begin, end] : buckets_) comm_.sum(arena_ + begin, end - begin);
  }
  // The worker waits for the next start(): this thread alone calls MPI now.
  for (const auto& [begin, end] : uncovered_) comm_.sum(arena_ + begin, end - begin);
  active_ = false;  // under the lock: the worker's wait reads it
}

void GradientReducer::sum_in_order() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || (active_ && next_ < buckets_.size() && ready_[next_]); });
    if (stopping_) return;
    const auto [begin, end] = buckets_[next_];
    lock.unlock();
    comm_.sum(arena_ + begin, end - begin);  // the only MPI call while backward runs
    lock.lock();
    next_ += 1;
    changed_.notify_all();
  }
}

}  // namespace heed
