#include "heed/backend/onednn/primitive_cache.h"

#include <bit>

#include "heed/core/error.h"

namespace heed {

PrimitiveKey& PrimitiveKey::add(int64_t value) {
  HEED_CHECK(size_ < kCapacity, "primitive key longer than {} values", kCapacity);
  values_[size_++] = value;
  return *this;
}

PrimitiveKey& PrimitiveKey::add(const Shape& shape) {
  add(static_cast<int64_t>(shape.rank()));
  for (int64_t d : shape) add(d);
  return *this;
}

PrimitiveKey& PrimitiveKey::add(float value) { return add(static_cast<int64_t>(std::bit_cast<uint32_t>(value))); }

bool PrimitiveKey::operator==(const PrimitiveKey& other) const {
  if (size_ != other.size_) return false;
  for (int i = 0; i < size_; ++i)
    if (values_[i] != other.values_[i]) return false;
  return true;
}

size_t PrimitiveKey::hash() const {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the values
  for (int i = 0; i < size_; ++i) {
    h ^= static_cast<uint64_t>(values_[i]);
    h *= 0x100000001b3ULL;
  }
  return static_cast<size_t>(h);
}

void CachedPrimitive::declare(int arg, const dnnl::memory::desc& desc, const dnnl::engine& engine) {
  args.emplace(arg, dnnl::memory(desc, engine, DNNL_MEMORY_NONE));
}

void CachedPrimitive::bind(int arg, const void* data) {
  // oneDNN takes a non-const pointer for inputs too; it never writes through an input.
  args.at(arg).set_data_handle(const_cast<void*>(data));
}

void CachedPrimitive::run(dnnl::stream& stream) {
  primitive.execute(stream, args);
  stream.wait();
}

}  // namespace heed
