#include "heed/backend/onednn/primitive_cache.h"

#include <bit>

#include "heed/core/error.h"

namespace heed {
namespace {
thread_local bool g_inside_execution = false;
}  // namespace

bool inside_onednn_execution() { return g_inside_execution; }

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
  const dnnl::memory& memory = args.emplace(arg, dnnl::memory(desc, engine, DNNL_MEMORY_NONE)).first->second;
  c_args.push_back({arg, memory.get()});
}

void CachedPrimitive::bind(int arg, const void* data) {
  // oneDNN takes a non-const pointer for inputs too; it never writes through an input.
  args.at(arg).set_data_handle(const_cast<void*>(data));
}

// Through the C API with the argument array built at declaration: the C++ wrapper's execute()
// would build a fresh std::vector of arguments on every call.
void CachedPrimitive::run(dnnl::stream& stream) {
  g_inside_execution = true;
  const dnnl_status_t status =
      dnnl_primitive_execute(primitive.get(), stream.get(), static_cast<int>(c_args.size()), c_args.data());
  const dnnl_status_t waited = status == dnnl_success ? dnnl_stream_wait(stream.get()) : status;
  g_inside_execution = false;
  dnnl::error::wrap_c_api(waited, "could not execute a primitive");
}

}  // namespace heed
