#pragma once
// Counter-based random numbers: the value at position i of stream (seed) is a pure function
// of (seed, i). Dropout masks are therefore identical on every backend, for any thread count,
// and the backward pass recomputes the mask instead of storing it.

#include <cstdint>

#include "heed/core/host_device.h"

namespace heed {

// SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix that passes
// BigCrush when fed a counter.
HEED_HOST_DEVICE constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform float in [0, 1) for element `index` of stream `seed`.
HEED_HOST_DEVICE constexpr float uniform_at(uint64_t seed, uint64_t index) {
  const uint64_t bits = mix64(mix64(seed) + index * 0x9e3779b97f4a7c15ULL);
  return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // 24 random bits
}

// Which elements dropout keeps: element i is kept with probability 1 − p. One 64-bit hash
// serves four consecutive elements, 16 bits each (p has a resolution of 1/65536), which makes
// the mask four times cheaper to draw than one hash per element.
class DropoutMask {
 public:
  HEED_HOST_DEVICE DropoutMask(uint64_t seed, float p)
      : key_(mix64(seed)), threshold_(static_cast<uint32_t>(static_cast<double>(p) * 65536.0 + 0.5)) {}
  // The 16-bit draws of elements 4g .. 4g + 3, lowest bits first.
  HEED_HOST_DEVICE uint64_t group(uint64_t g) const { return mix64(key_ + g * 0x9e3779b97f4a7c15ULL); }
  HEED_HOST_DEVICE bool keeps_draw(uint64_t draw16) const { return draw16 >= threshold_; }
  HEED_HOST_DEVICE bool keeps(uint64_t i) const { return keeps_draw((group(i >> 2) >> ((i & 3) * 16)) & 0xFFFF); }

 private:
  uint64_t key_;
  uint32_t threshold_;
};

// A small sequential generator for initialisation and data shuffling.
class Rng {
 public:
  explicit Rng(uint64_t seed) : seed_(seed) {}
  uint64_t next_u64() { return mix64(seed_ + 0x9e3779b97f4a7c15ULL * ++counter_); }
  float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  float normal();  // Box-Muller

  uint64_t seed() const { return seed_; }
  uint64_t counter() const { return counter_; }
  void set_counter(uint64_t counter) { counter_ = counter; }

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;
};

}  // namespace heed
