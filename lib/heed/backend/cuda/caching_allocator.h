#pragma once
// CachingAllocator: device memory handed out in size classes and kept when freed, so that the
// thousands of same-sized activations a training step or a decoding step allocates cost one
// cudaMalloc each in the first step and none after (cudaMalloc and cudaFree synchronise the
// device, and a step allocates hundreds of tensors). Blocks are reused on the stream that
// freed them, the backend's only stream, so reuse is ordered after every earlier use.
//
// It holds no CUDA type: the raw allocation functions are given to it, which lets the CPU tests
// check its bookkeeping with malloc.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace heed {

class CachingAllocator {
 public:
  struct Raw {
    std::function<void*(size_t)> allocate;  // nullptr when the device is out of memory
    std::function<void(void*)> release;
  };
  struct Stats {
    size_t in_use = 0;    // bytes handed out (rounded to their size class)
    size_t cached = 0;    // bytes held for reuse
    size_t peak = 0;      // most bytes in use + cached at once
    int64_t raw_allocations = 0;
  };

  explicit CachingAllocator(Raw raw) : raw_(std::move(raw)) {}
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // At least `bytes` (256-byte aligned, as cudaMalloc's are); throws an Error saying how much
  // was asked, is in use and was cached when the device has no more, after giving every cached
  // block back and trying once more.
  void* allocate(size_t bytes);
  void free(void* block);      // back into the cache
  void release_cached();       // every cached block back to the device

  Stats stats() const;

  // The size class of a request: multiples of 512 bytes up to 1 MiB, then of 2 MiB, so that
  // lengths that differ by a few tokens share blocks.
  static size_t size_class(size_t bytes);

 private:
  void release_cached_locked();

  Raw raw_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> cached_;  // size class → free blocks
  std::map<void*, size_t> live_;         // handed out → size class
  Stats stats_;
};

}  // namespace heed
