#include <doctest/doctest.h>

#include <vector>

#include "heed/backend/layout_pass.h"
#include "heed/backend/op_profiler.h"
#include "heed/devices/devices.h"

using namespace heed;

TEST_CASE("a layout pass allocates and moves memory through the backend, and computes nothing") {
  auto be = make_backend(BackendKind::onednn);
  const size_t before = tensor_memory().in_use;
  const Tensor a = be->allocate(Shape{4, 8});
  const Tensor b = be->allocate(Shape{8, 3});
  const Tensor c = be->allocate(Shape{4, 3});
  {
    const LayoutPass layout(*be);
    CHECK(tensor_memory().in_use - before >= (32 + 24 + 12) * sizeof(float));  // real memory, counted
    be->fill(a, 1.0);  // memory operations are real
    be->fill(b, 2.0);
    be->fill(c, -5.0);
    CHECK(a.f32()[31] == 1.0f);
    be->matmul(a, b, c);  // ops are not: c keeps what it held
    be->softmax_forward(c, c);
    CHECK(be->sum_squares(c) == 0.0);  // a value an op would return is none
    for (int64_t i = 0; i < c.numel(); ++i) CHECK(c.f32()[i] == -5.0f);
    // Shapes are still checked, as on every backend.
    CHECK_THROWS(be->matmul(a, a, c));
  }
  // Once the pass ends, the same call computes.
  be->matmul(a, b, c);
  CHECK(c.f32()[0] == 16.0f);
  CHECK(be->hooks() == nullptr);
}

TEST_CASE("the profiler counts each op once at its entry point, and a layout pass inside it is not counted") {
  auto be = make_backend(BackendKind::reference);
  const Tensor a = be->allocate(Shape{4, 8}), b = be->allocate(Shape{8, 3}), c = be->allocate(Shape{4, 3});
  OpProfiler profiler;
  {
    const ProfiledScope scope(*be, profiler);
    be->fill(a, 1.0);
    be->fill(b, 2.0);
    be->matmul(a, b, c);
    be->matmul(a, b, c);
    {
      const LayoutPass layout(*be);  // replaces the profiler's hooks while it lives
      be->matmul(a, b, c);
    }
    be->softmax_forward(c, c);
  }
  be->matmul(a, b, c);  // after the scope: not counted
  std::vector<std::pair<std::string, int64_t>> calls;
  for (const OpProfile& op : profiler.report()) {
    calls.emplace_back(op.name, op.calls);
    CHECK(op.seconds >= 0.0);
  }
  std::sort(calls.begin(), calls.end());
  CHECK(calls == std::vector<std::pair<std::string, int64_t>>{{"fill", 2}, {"matmul", 2}, {"softmax", 1}});
  CHECK(c.f32()[0] == doctest::Approx(16.0f));
}
