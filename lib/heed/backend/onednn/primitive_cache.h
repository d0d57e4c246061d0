#pragma once
// PrimitiveCache: oneDNN primitives built once per (op, shapes, attributes, thread count) and
// reused. Building one means JIT-compiling a kernel, which costs several executions of a small
// one, so the hot path must never do it twice. Each entry also keeps its memory
// objects and argument map: a call only rebinds data pointers, so it allocates nothing.

#include <array>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "heed/core/shape.h"

namespace heed {

// True on this thread while a oneDNN primitive executes. oneDNN 2.6 allocates a few small
// blocks inside every execution (its argument map), which heed cannot avoid; tests use this to
// tell those apart from allocations in heed's own code.
bool inside_onednn_execution();

// A fixed-capacity list of integers naming one primitive configuration.
class PrimitiveKey {
 public:
  static constexpr int kCapacity = 48;

  PrimitiveKey& add(int64_t value);
  PrimitiveKey& add(const Shape& shape);
  PrimitiveKey& add(float value);  // by bit pattern

  bool operator==(const PrimitiveKey& other) const;
  size_t hash() const;

 private:
  std::array<int64_t, kCapacity> values_{};
  int size_ = 0;
};

struct PrimitiveKeyHash {
  size_t operator()(const PrimitiveKey& key) const { return key.hash(); }
};

struct CachedPrimitive {
  dnnl::primitive primitive;
  std::unordered_map<int, dnnl::memory> args;  // memories without buffers until bound
  std::vector<dnnl_exec_arg_t> c_args;         // the same, as the C API takes them (built once)

  // Adds an argument slot of the given layout (at build time).
  void declare(int arg, const dnnl::memory::desc& desc, const dnnl::engine& engine);
  // Points an argument at this call's buffer.
  void bind(int arg, const void* data);
  void run(dnnl::stream& stream);
};

// Least-recently-used, with a bound: every distinct batch shape brings its own primitives
// (training sees hundreds of shapes, each JIT-compiled kernel holds code pages), and an
// unbounded cache grew training by gigabytes. Re-creating an evicted primitive costs a fraction of
// a millisecond, nothing beside the time a batch of that shape takes.
class PrimitiveCache {
 public:
  static constexpr size_t kDefaultCapacity = 256;

  // Returns the entry for `key`, calling build() to create it on first use. A template, not a
  // std::function, so that a lookup never allocates. The reference is valid until the next get().
  template <typename Build>
  CachedPrimitive& get(const PrimitiveKey& key, Build&& build) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      ++hits_;
      entries_.splice(entries_.begin(), entries_, it->second);  // now the most recent
      return it->second->second;
    }
    ++misses_;
    entries_.emplace_front(key, build());
    index_.emplace(key, entries_.begin());
    if (entries_.size() > capacity_) {
      index_.erase(entries_.back().first);
      entries_.pop_back();
    }
    return entries_.front().second;
  }

  size_t size() const { return entries_.size(); }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }
  void clear() {
    index_.clear();
    entries_.clear();
  }
  void set_capacity(size_t capacity) { capacity_ = capacity == 0 ? 1 : capacity; }

 private:
  using Entries = std::list<std::pair<PrimitiveKey, CachedPrimitive>>;
  Entries entries_;  // most recently used first
  std::unordered_map<PrimitiveKey, Entries::iterator, PrimitiveKeyHash> index_;
  size_t capacity_ = kDefaultCapacity;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace heed
