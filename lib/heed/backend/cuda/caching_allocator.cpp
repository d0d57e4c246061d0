#include "heed/backend/cuda/caching_allocator.h"

#include <algorithm>

#include "heed/core/error.h"

namespace heed {

size_t CachingAllocator::size_class(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t{2} << 20, kSmallLimit = size_t{1} << 20;
  bytes = std::max<size_t>(bytes, 1);
  if (bytes <= kSmallLimit) return (bytes + kSmall - 1) / kSmall * kSmall;
  return (bytes + kLarge - 1) / kLarge * kLarge;
}

CachingAllocator::~CachingAllocator() {
  std::lock_guard lock(mutex_);
  release_cached_locked();  // nothing is live: every tensor holds the allocator until it dies
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = size_class(bytes);
  std::lock_guard lock(mutex_);
  void* block = nullptr;
  if (const auto it = cached_.find(size); it != cached_.end()) {
    block = it->second;
    cached_.erase(it);
    stats_.cached -= size;
  } else {
    block = raw_.allocate(size);
    if (block == nullptr && !cached_.empty()) {  // blocks of other sizes may make room
      release_cached_locked();
      block = raw_.allocate(size);
    }
    if (block == nullptr)
      fail("GPU out of memory: {:.1f} MB asked for, {:.1f} MB in use by heed", static_cast<double>(size) / 1e6,
           static_cast<double>(stats_.in_use) / 1e6);
    stats_.raw_allocations += 1;
  }
  live_.emplace(block, size);
  stats_.in_use += size;
  stats_.peak = std::max(stats_.peak, stats_.in_use + stats_.cached);
  return block;
}

void CachingAllocator::free(void* block) {
  std::lock_guard lock(mutex_);
  const auto it = live_.find(block);
  HEED_CHECK(it != live_.end(), "CachingAllocator::free: {} was not handed out by this allocator", block);
  cached_.emplace(it->second, block);
  stats_.in_use -= it->second;
  stats_.cached += it->second;
  live_.erase(it);
}

void CachingAllocator::release_cached() {
  std::lock_guard lock(mutex_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  for (const auto& [size, block] : cached_) raw_.release(block);
  cached_.clear();
  stats_.cached = 0;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace heed
