#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include <unistd.h>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/rng.h"
#include "heed/core/tensor.h"

using namespace heed;

TEST_CASE("tensors are 64-byte aligned, including empty and odd-sized ones") {
  for (int64_t n : {0, 1, 3, 17, 1000}) {
    const Tensor t = Tensor::empty(Shape{n, 3});
    CHECK(reinterpret_cast<uintptr_t>(t.raw()) % kTensorAlignment == 0);
    CHECK(t.numel() == n * 3);
  }
}

TEST_CASE("zeros clears the buffer and reshape shares it") {
  const Tensor t = Tensor::zeros(Shape{2, 3});
  for (int64_t i = 0; i < t.numel(); ++i) CHECK(t.f32()[i] == 0.0f);
  const Tensor r = t.reshape(Shape{3, 2});
  r.f32()[5] = 7.0f;
  CHECK(t.f32()[5] == 7.0f);
  CHECK_THROWS_AS(t.reshape(Shape{4, 2}), Error);
}

TEST_CASE("slice_rows views a range of rows and rejects one out of range") {
  const Tensor t = Tensor::empty(Shape{4, 2});
  for (int64_t i = 0; i < 8; ++i) t.f32()[i] = static_cast<float>(i);
  const Tensor s = t.slice_rows(1, 3);
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.f32()[0] == 2.0f);
  CHECK_THROWS_AS(t.slice_rows(3, 5), Error);
}

TEST_CASE("typed access checks the dtype") {
  const Tensor ids = Tensor::empty(Shape{4}, DType::i32);
  CHECK_NOTHROW(ids.data<int32_t>());
  CHECK_THROWS_WITH_AS(ids.f32(), doctest::Contains("accessed as f32"), Error);
}

TEST_CASE("shapes name their dims in messages and index from the end") {
  const Shape s{2, 5, 7};
  CHECK(s.str() == "[2, 5, 7]");
  CHECK(s[-1] == 7);
  CHECK(s.rows() == 10);
  CHECK_THROWS_AS(s[3], Error);
}

TEST_CASE("counter-based random numbers depend only on seed and index") {
  CHECK(uniform_at(1, 5) == uniform_at(1, 5));
  CHECK(uniform_at(1, 5) != uniform_at(2, 5));
  double sum = 0.0;
  for (uint64_t i = 0; i < 100000; ++i) {
    const float u = uniform_at(9, i);
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    sum += u;
  }
  CHECK(sum / 100000 == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("parameter streams are named by FNV-1a, the same with every standard library") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
  const std::string name = "decoder.0.cross_attention.q.weight";
  CHECK(fnv1a64(name) != fnv1a64(std::string_view(name).substr(0, name.size() - 1)));
}

TEST_CASE("tensors count the host memory they hold, and a limit refuses more with the sizes") {
  const TensorMemory start = tensor_memory();
  {
    const Tensor t = Tensor::empty(Shape{1000}, DType::f32);  // 4,000 bytes, rounded up to 4,032
    CHECK(tensor_memory().in_use == start.in_use + 4032);
    CHECK(tensor_memory().peak >= start.in_use + 4032);
    const Tensor view = t.reshape(Shape{10, 100});  // views hold nothing more
    CHECK(tensor_memory().in_use == start.in_use + 4032);
  }
  CHECK(tensor_memory().in_use == start.in_use);
  set_tensor_memory_limit(start.in_use + (1 << 20));
  const Tensor fits = Tensor::empty(Shape{1 << 17}, DType::f32);  // 0.5 MB
  CHECK_THROWS_WITH_AS(Tensor::empty(Shape{1 << 18}, DType::f32), doctest::Contains("out of memory: f32[262144]"), Error);
  set_tensor_memory_limit(start.limit);
}

TEST_CASE("discarding pages gives back only whole pages inside the range, which then read as zero") {
  Tensor t = Tensor::empty(Shape{1 << 20});  // 4 MiB: mapped memory
  t.fill(1.0f);
  const int64_t page = sysconf(_SC_PAGESIZE), offset = page / 2, length = 3 * page;  // covers two whole pages
  CHECK(t.discard_pages(offset, length) == 2 * page);
  const float* f = t.f32();
  CHECK(f[offset / 4] == 1.0f);                // the part page before the range's first whole page
  CHECK(f[page / 4] == 0.0f);                  // given back
  CHECK(f[(3 * page - 4) / 4] == 0.0f);
  CHECK(f[(3 * page) / 4 + 100] == 1.0f);      // past the range's last whole page
  CHECK(f[(1 << 20) - 1] == 1.0f);
  Tensor small = Tensor::empty(Shape{1000});   // not mapped: left as it is
  small.fill(2.0f);
  CHECK(small.discard_pages(0, 4000) == 0);
  CHECK(small.f32()[500] == 2.0f);
}
