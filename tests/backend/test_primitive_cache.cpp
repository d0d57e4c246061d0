#include <doctest/doctest.h>

#include "heed/backend/onednn/onednn_backend.h"
#include "heed/core/threads.h"
#include "heed/devices/devices.h"
#include "support.h"

using namespace heed;
using namespace heed::test;

TEST_CASE("oneDNN primitives are created once per shape and reused") {
  OneDnnBackend backend;
  Rng rng(1);
  const Tensor a = random_tensor(Shape{8, 16}, rng), b = random_tensor(Shape{16, 4}, rng);
  Tensor c = Tensor::empty(Shape{8, 4});
  for (int i = 0; i < 5; ++i) backend.matmul(a, b, c);
  CHECK(backend.cache_stats().misses == 1);
  CHECK(backend.cache_stats().hits == 4);

  const Tensor a2 = random_tensor(Shape{9, 16}, rng);
  Tensor c2 = Tensor::empty(Shape{9, 4});
  backend.matmul(a2, b, c2);  // a new shape is a new primitive
  CHECK(backend.cache_stats().misses == 2);
  backend.matmul(a, b, c, {.accumulate = Accumulate::yes});  // so is a new epilogue
  CHECK(backend.cache_stats().misses == 3);
  CHECK(backend.cache_stats().entries == 3);
}

TEST_CASE("a cached primitive computes with the buffers of each call, not those of the first") {
  OneDnnBackend backend;
  Rng rng(2);
  const Tensor b = random_tensor(Shape{6, 3}, rng);
  for (int i = 0; i < 3; ++i) {
    const Tensor a = random_tensor(Shape{4, 6}, rng);
    Tensor c = Tensor::empty(Shape{4, 3});
    Tensor expected = Tensor::empty(Shape{4, 3});
    backend.matmul(a, b, c);
    make_backend(BackendKind::reference)->matmul(a, b, expected);
    CHECK(normalized_error(c, expected) <= 1e-6);
  }
}

TEST_CASE("the thread count is part of a primitive's identity") {
  OneDnnBackend backend;
  Rng rng(3);
  const Tensor a = random_tensor(Shape{8, 8}, rng), b = random_tensor(Shape{8, 8}, rng);
  Tensor c = Tensor::empty(Shape{8, 8});
  const int before = current_threads();
  set_threads(1);
  backend.matmul(a, b, c);
  set_threads(2);
  backend.matmul(a, b, c);
  set_threads(before);
  CHECK(backend.cache_stats().misses == 2);
}

TEST_CASE("the primitive cache keeps the most recently used primitives within its bound") {
  OneDnnBackend backend;
  backend.set_cache_capacity(2);
  Rng rng(4);
  const Tensor b = random_tensor(Shape{8, 4}, rng);
  std::vector<Tensor> as, cs;
  for (int64_t rows : {3, 5, 7}) {
    as.push_back(random_tensor(Shape{rows, 8}, rng));
    cs.push_back(Tensor::empty(Shape{rows, 4}));
  }
  backend.matmul(as[0], b, cs[0]);
  backend.matmul(as[1], b, cs[1]);
  backend.matmul(as[0], b, cs[0]);  // a hit: shape 0 becomes the most recent
  backend.matmul(as[2], b, cs[2]);  // evicts shape 1, the least recent
  CHECK(backend.cache_stats().entries == 2);
  const int64_t misses = backend.cache_stats().misses;
  backend.matmul(as[0], b, cs[0]);
  CHECK(backend.cache_stats().misses == misses);      // still cached
  backend.matmul(as[1], b, cs[1]);
  CHECK(backend.cache_stats().misses == misses + 1);  // was evicted, built again
  Tensor expected = Tensor::empty(Shape{5, 4});
  make_backend(BackendKind::reference)->matmul(as[1], b, expected);
  CHECK(normalized_error(cs[1], expected) <= 1e-6);
}
