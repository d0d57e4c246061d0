#pragma once
// Helpers shared by the backend and gradient tests: random tensors, tensors with guard bytes
// around them, and a normalised comparison.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "heed/backend/backend.h"
#include "heed/core/rng.h"
#include "heed/core/tensor.h"
#include "heed/devices/devices.h"

namespace heed::test {

inline Tensor random_tensor(const Shape& shape, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = rng.uniform(lo, hi);
  return t;
}

inline Tensor ids_tensor(const std::vector<int32_t>& ids) {
  Tensor t = Tensor::empty(Shape{static_cast<int64_t>(ids.size())}, DType::i32);
  std::copy(ids.begin(), ids.end(), t.data<int32_t>());
  return t;
}

inline Tensor copy_of(const Tensor& t) {
  Tensor c = Tensor::empty(t.shape(), t.dtype());
  c.copy_from(t);
  return c;
}

// A tensor with 256 guard bytes on each side, filled with a pattern; guards_intact() tells
// whether an op wrote outside the tensor. (ASan catches overruns of heap blocks too; guards
// also catch writes that stay inside one block.)
class GuardedTensor {
 public:
  static constexpr size_t kGuardBytes = 256;
  static constexpr unsigned char kPattern = 0xA5;

  explicit GuardedTensor(const Shape& shape, DType dtype = DType::f32) {
    const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
    block_ = Tensor::empty(Shape{static_cast<int64_t>(bytes + 2 * kGuardBytes)}, DType::u8);
    std::memset(block_.raw(), kPattern, block_.bytes());
    tensor_ = Tensor::view(static_cast<unsigned char*>(block_.raw()) + kGuardBytes, shape, dtype);
  }
  const Tensor& tensor() const { return tensor_; }
  bool guards_intact() const {
    const auto* p = static_cast<const unsigned char*>(block_.raw());
    const size_t total = block_.bytes();
    for (size_t i = 0; i < kGuardBytes; ++i)
      if (p[i] != kPattern || p[total - 1 - i] != kPattern) return false;
    return true;
  }

 private:
  Tensor block_;
  Tensor tensor_;
};

// max |a − b| / max(1, max |b|): absolute near zero, relative for large values.
inline double normalized_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double max_diff = 0.0, max_ref = 1.0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.f32()[i], y = b.f32()[i];
    if (std::isnan(x) != std::isnan(y)) return INFINITY;
    max_diff = std::max(max_diff, std::abs(x - y));
    max_ref = std::max(max_ref, std::abs(y));
  }
  return max_diff / max_ref;
}

inline bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.f32()[i])) return false;
  return true;
}

// A directory under /tmp, removed with everything in it at the end of its scope.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "heed-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// [batch..., rows, cols]: a matrix shape with batch dims in front.
inline Shape with_batch(const std::vector<int64_t>& batch, int64_t rows, int64_t cols) {
  Shape s;
  for (int64_t b : batch) s.push_back(b);
  s.push_back(rows);
  s.push_back(cols);
  return s;
}

// The backend the op, gradient and tiled-attention suites check against the reference: oneDNN's,
// or with HEED_TEST_DEVICE=cuda (tools/gpu-check) or =simulated that device behind a HostAdapter
// (support/host_adapter.h). Unknown values, or cuda where there is no GPU, throw.
std::unique_ptr<Backend> backend_under_test();

// Every backend a test should cover, the reference included.
inline std::vector<std::unique_ptr<Backend>> all_backends() {
  std::vector<std::unique_ptr<Backend>> backends;
  backends.push_back(backend_under_test());
  backends.push_back(make_backend(BackendKind::reference));
  return backends;
}

}  // namespace heed::test
