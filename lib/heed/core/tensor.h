#pragma once
// Tensor: a typed, shaped view of contiguous row-major memory on one device. A tensor either
// owns its buffer (shared, so copies of the handle are cheap views of the same memory) or
// views memory someone else owns. Owned buffers are 64-byte aligned (one cache line, one
// AVX-512 register), which oneDNN's kernels and our own loops rely on for full-width loads.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "heed/core/shape.h"

namespace heed {

// f32 is what every op computes in today; bf16 and i8 are reserved for the low-precision
// inference paths; f16 is a storage format (model files); i32 holds token ids; u8 bytes.
enum class DType : uint8_t { f32, bf16, i8, u8, i32, f16 };
enum class Device : uint8_t { cpu, cuda };

size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);
std::string_view device_name(Device device);

inline constexpr size_t kTensorAlignment = 64;

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<int8_t>() { return DType::i8; }

// Host memory held by owned tensors (weights, optimiser state, activations, caches): counted so
// that a run can say what its workspace takes, and limited so that a batch too large for the
// machine fails with its size (an Error) rather than meeting the kernel's OOM killer mid-run.
struct TensorMemory {
  size_t in_use = 0, peak = 0;
  size_t limit = 0;  // 0: none
};
TensorMemory tensor_memory();
void set_tensor_memory_limit(size_t bytes);

class Tensor {
 public:
  Tensor() = default;

  // A new owned buffer; `empty` leaves it uninitialised, `zeros` clears it.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  // A view of memory owned elsewhere; the caller keeps it alive.
  static Tensor view(void* data, const Shape& shape, DType dtype, Device device = Device::cpu);
  // Memory a device backend allocated, owned through `storage`, whose deleter gives it back.
  static Tensor adopt(std::shared_ptr<std::byte> storage, const Shape& shape, DType dtype, Device device);

  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int64_t numel() const { return shape_.numel(); }
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool defined() const { return data_ != nullptr || numel() == 0; }
  void* raw() const { return data_; }

  // Typed access on the host; throws when T does not match the tensor's dtype, or when the
  // tensor lives on a device (read it through its backend: Backend::to_host).
  template <typename T> T* data() const {
    check_dtype(dtype_of<T>());
    if (device_ != Device::cpu) fail_off_host();
    return static_cast<T*>(data_);
  }
  float* f32() const { return data<float>(); }
  // Hands the whole pages within bytes [offset, offset + length) of this tensor's memory back to
  // the system, which then reads as zero; returns the bytes given back. Only a host tensor that
  // owns mapped memory (1 MiB or more) gives any back.
  int64_t discard_pages(int64_t offset, int64_t length) const;

  // A view of the same memory with another shape of the same element count.
  Tensor reshape(const Shape& shape) const;
  // A view of rows [begin, end) along the first axis.
  Tensor slice_rows(int64_t begin, int64_t end) const;
  // The same memory, said to be on another device: for a backend whose device memory the host
  // can address (the tests' simulated device), which hands host memory out as its own.
  Tensor as_device(Device device) const;

  // On the host only, as data(): device tensors are filled and copied by their backend.
  void fill(float value) const;       // f32 only
  void zero() const;
  void copy_from(const Tensor& src) const;  // same shape and dtype

  std::string describe() const;       // "f32[2, 3] on cpu"

 private:
  // A new owned buffer, zeroed when `zero` asks for it (without writing pages that are fresh
  // from the kernel, so that those cost no memory until used).
  static Tensor allocate(const Shape& shape, DType dtype, Device device, bool zero);
  void check_dtype(DType expected) const;
  [[noreturn]] void fail_off_host() const;

  std::shared_ptr<std::byte> storage_;  // null for views of foreign memory
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu;
};

}  // namespace heed
