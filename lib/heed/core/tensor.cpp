#include "heed/core/tensor.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include <sys/mman.h>
#include <unistd.h>

#include "heed/core/error.h"

namespace heed {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::bf16: return 2;
    case DType::i8: return 1;
    case DType::u8: return 1;
    case DType::i32: return 4;
    case DType::f16: return 2;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::bf16: return "bf16";
    case DType::i8: return "i8";
    case DType::u8: return "u8";
    case DType::i32: return "i32";
    case DType::f16: return "f16";
  }
  return "?";
}

std::string_view device_name(Device device) {
  return device == Device::cpu ? "cpu" : "cuda";
}

namespace {

std::atomic<size_t> bytes_in_use{0}, peak_bytes{0}, byte_limit{0};

constexpr double kMiB = 1024.0 * 1024.0;

// Tensors from 1 MiB up are mapped from the kernel rather than taken from the heap: their pages
// are zero and cost no memory until written (a workspace laid out for the longest batch costs
// only what batches use), and they go back to the system when freed.
constexpr size_t kMappedBytes = size_t{1} << 20;

}  // namespace

TensorMemory tensor_memory() { return {bytes_in_use.load(), peak_bytes.load(), byte_limit.load()}; }
void set_tensor_memory_limit(size_t bytes) { byte_limit = bytes; }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) { return allocate(shape, dtype, device, false); }

Tensor Tensor::allocate(const Shape& shape, DType dtype, Device device, bool zero) {
  HEED_CHECK(device == Device::cpu, "tensors on {} are not available in this build",
             device_name(device));
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  // Round up so that aligned_alloc's size requirement holds, and so that a zero-sized
  // tensor still has a valid, unique pointer.
  size_t bytes = t.bytes();
  bytes = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (bytes == 0) bytes = kTensorAlignment;
  const size_t limit = byte_limit.load(), held = bytes_in_use.load();
  if (limit != 0 && held + bytes > limit)
    fail("out of memory: {} needs {:.1f} MB more with {:.1f} MB held, beyond the {:.1f} MB available",
         t.describe(), bytes / kMiB, held / kMiB, limit / kMiB);
  void* block = nullptr;  // what is given back: the mapping, or the heap block
  void* p = nullptr;      // where the tensor starts, kTensorAlignment-aligned
  const bool mapped = bytes >= kMappedBytes;
  if (mapped) {
    block = p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
  } else if (zero) {
    // calloc leaves memory that is fresh from the kernel unwritten (it knows it is zero), where
    // aligned_alloc and a memset would touch every page: a decoding workspace laid out for the
    // largest batch is mostly such blocks, and later batches use only part of them.
    block = std::calloc(1, bytes + kTensorAlignment);
    if (block == nullptr) throw std::bad_alloc();
    p = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(block) + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment);
  } else {
    block = p = std::aligned_alloc(kTensorAlignment, bytes);
    if (p == nullptr) throw std::bad_alloc();
  }
  const size_t now = bytes_in_use.fetch_add(bytes) + bytes;
  size_t peak = peak_bytes.load();
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
  }
  t.storage_ = std::shared_ptr<std::byte>(static_cast<std::byte*>(p), [bytes, mapped, block](std::byte* q) {
    if (mapped)
      munmap(q, bytes);
    else
      std::free(block);
    bytes_in_use.fetch_sub(bytes);
  });
  t.data_ = p;
  return t;
}

int64_t Tensor::discard_pages(int64_t offset, int64_t length) const {
  if (device_ != Device::cpu || storage_ == nullptr || data_ != storage_.get() || bytes() < kMappedBytes) return 0;
  HEED_CHECK(offset >= 0 && length >= 0 && static_cast<size_t>(offset + length) <= bytes(),
             "discard_pages: bytes [{}, {}) outside {}", offset, offset + length, describe());
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(data_) + static_cast<uintptr_t>(offset);
  const uintptr_t first = (begin + page - 1) / page * page, last = (begin + static_cast<uintptr_t>(length)) / page * page;
  if (last <= first) return 0;
  HEED_CHECK(madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) == 0, "madvise failed on {}", describe());
  return static_cast<int64_t>(last - first);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return allocate(shape, dtype, device, true); }

Tensor Tensor::view(void* data, const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.data_ = data;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.device_ = device;
  return t;
}

Tensor Tensor::adopt(std::shared_ptr<std::byte> storage, const Shape& shape, DType dtype, Device device) {
  Tensor t = view(storage.get(), shape, dtype, device);
  t.storage_ = std::move(storage);
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  HEED_CHECK(shape.numel() == numel(), "cannot reshape {} to {}: element counts differ",
             describe(), shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  HEED_CHECK(shape_.rank() >= 1, "cannot slice rows of a scalar {}", describe());
  HEED_CHECK(0 <= begin && begin <= end && end <= shape_[0],
             "row slice [{}, {}) out of range for {}", begin, end, describe());
  Tensor t = *this;
  const int64_t row_elems = shape_[0] == 0 ? 0 : numel() / shape_[0];
  t.data_ = static_cast<std::byte*>(data_) + begin * row_elems * static_cast<int64_t>(dtype_size(dtype_));
  t.shape_ = shape_.with(0, end - begin);
  return t;
}

Tensor Tensor::as_device(Device device) const {
  Tensor t = *this;
  t.device_ = device;
  return t;
}

void Tensor::fill(float value) const {
  float* p = f32();
  for (int64_t i = 0, n = numel(); i < n; ++i) p[i] = value;
}

void Tensor::zero() const {
  if (device_ != Device::cpu) fail_off_host();
  if (bytes() > 0) std::memset(data_, 0, bytes());
}

void Tensor::copy_from(const Tensor& src) const {
  HEED_CHECK(src.shape() == shape_ && src.dtype() == dtype_, "cannot copy {} into {}",
             src.describe(), describe());
  if (device_ != Device::cpu) fail_off_host();
  if (src.device_ != Device::cpu) src.fail_off_host();
  if (bytes() > 0) std::memmove(data_, src.data_, bytes());
}

std::string Tensor::describe() const {
  return std::string(dtype_name(dtype_)) + shape_.str() + " on " + std::string(device_name(device_));
}

void Tensor::fail_off_host() const {
  fail("tensor {} read or written on the host: only its backend can (Backend::to_host, fill, copy)", describe());
}

void Tensor::check_dtype(DType expected) const {
  HEED_CHECK(dtype_ == expected, "tensor {} accessed as {}", describe(), dtype_name(expected));
}

}  // namespace heed
