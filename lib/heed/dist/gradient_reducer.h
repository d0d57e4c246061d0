#pragma once
// GradientReducer: sums a flat gradient arena across the processes of a training, bucket by
// bucket, on a thread of its own, while the backward pass is still computing the rest. The
// buckets are fixed and ordered (a layer's parameters, from the top of the model down, as
// backward finishes them; Transformer::gradient_ranges): every process sums them in that order,
// as MPI requires of collective calls, whichever it got first. Backward marks each bucket ready
// when it is final; finish() marks the rest (a process with no sentences in this batch ran no
// backward), sums what no bucket covers (the embedding tables, which the output layer and the
// embeddings both write) and waits for everything.
//
// Only the reducer's thread calls MPI between start() and finish() (MPI_THREAD_SERIALIZED). Where
// the MPI library offers less, finish() does all of it on the caller's thread; with one process
// there is nothing to do.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "heed/dist/communicator.h"

namespace heed {

class GradientReducer {
 public:
  using Range = std::pair<int64_t, int64_t>;  // elements [first, second) of the arena

  explicit GradientReducer(Communicator& comm);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // A new update's gradients: the arena of `size` floats (host memory) and its buckets, in the
  // order they are summed (the same on every process).
  void start(float* arena, int64_t size, const std::vector<Range>& buckets);
  // The bucket [begin, end) is final: it may be summed.
  void ready(int64_t begin, int64_t end);
  // Marks every bucket ready, sums what they leave out, and waits until the whole arena is summed.
  void finish();

  bool overlaps() const { return worker_.joinable(); }

 private:
  void sum_in_order();  // the worker: each bucket once ready, in order
  std::vector<Range> uncovered() const;

  Communicator& comm_;
  float* arena_ = nullptr;
  int64_t size_ = 0;
  std::vector<Range> buckets_;
  std::vector<Range> uncovered_;  // what no bucket covers, found once per start()

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<bool> ready_;  // per bucket
  size_t next_ = 0;          // the next bucket to sum; buckets_.size(): done
  bool active_ = false;      // between start() and the end of finish()
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace heed
