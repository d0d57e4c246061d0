// The CUDA backend's caching allocator (cuda/caching_allocator.h), with malloc in place of
// cudaMalloc: blocks are reused by size class, cached blocks are given back when the device runs
// out, and running out for good says how much was asked for.

#include <doctest/doctest.h>

#include <cstdlib>
#include <map>

#include "heed/backend/cuda/caching_allocator.h"
#include "heed/core/error.h"

using namespace heed;

namespace {

// A device of `capacity` bytes, counting its allocations.
struct FakeDevice {
  size_t capacity = 0, used = 0;
  int allocations = 0, releases = 0;
  std::map<void*, size_t> blocks{};
  CachingAllocator::Raw raw() {
    return {.allocate = [this](size_t bytes) -> void* {
              if (used + bytes > capacity) return nullptr;
              void* p = std::malloc(bytes);
              blocks[p] = bytes;
              used += bytes;
              allocations += 1;
              return p;
            },
            .release = [this](void* p) {
              used -= blocks.at(p);
              blocks.erase(p);
              std::free(p);
              releases += 1;
            }};
  }
};

}  // namespace

TEST_CASE("size classes: 512-byte steps up to 1 MiB, 2 MiB steps above") {
  CHECK(CachingAllocator::size_class(0) == 512);
  CHECK(CachingAllocator::size_class(1) == 512);
  CHECK(CachingAllocator::size_class(512) == 512);
  CHECK(CachingAllocator::size_class(513) == 1024);
  CHECK(CachingAllocator::size_class(1 << 20) == (1 << 20));
  CHECK(CachingAllocator::size_class((1 << 20) + 1) == (2 << 20));
  CHECK(CachingAllocator::size_class((5 << 20) + 7) == (6 << 20));
}

TEST_CASE("a freed block is handed out again for the same size class, without a new allocation") {
  FakeDevice device{.capacity = 64 << 20};
  {
    CachingAllocator allocator(device.raw());
    void* a = allocator.allocate(1000);
    void* b = allocator.allocate(3000);
    CHECK(a != b);
    CHECK(device.allocations == 2);
    allocator.free(a);
    CHECK(allocator.stats().cached == 1024);
    CHECK(allocator.allocate(900) == a);  // same class (1,024 bytes)
    CHECK(device.allocations == 2);
    void* c = allocator.allocate(1000);  // the class's one block is in use: a new one
    CHECK(c != a);
    CHECK(device.allocations == 3);
    CHECK(allocator.stats().in_use == 1024 + 3072 + 1024);
    CHECK_THROWS_WITH_AS(allocator.free(static_cast<char*>(b) + 1), doctest::Contains("not handed out"), Error);
    allocator.free(a);
    allocator.free(b);
    allocator.free(c);
    CHECK(allocator.stats().in_use == 0);
    CHECK(allocator.stats().peak == 5120);
  }
  CHECK(device.used == 0);  // the allocator gives everything back when it goes
  CHECK(device.releases == 3);
}

TEST_CASE("out of device memory: cached blocks are given back and the allocation retried; then a clear error") {
  FakeDevice device{.capacity = 6 << 20};
  CachingAllocator allocator(device.raw());
  void* big = allocator.allocate(4 << 20);
  allocator.free(big);  // cached, 4 MiB of the 6
  void* other = allocator.allocate(3 << 20);  // 4 MiB class: the cached block fits exactly
  CHECK(other == big);
  allocator.free(other);
  void* larger = allocator.allocate(5 << 20);  // a 6 MiB class: only after the cache is emptied
  CHECK(larger != nullptr);
  CHECK(allocator.stats().cached == 0);
  CHECK_THROWS_WITH_AS(allocator.allocate(1 << 20), doctest::Contains("GPU out of memory"), Error);
  allocator.free(larger);
}
