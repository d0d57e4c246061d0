#include <doctest/doctest.h>

#include <vector>

#include "heed/backend/layout_backend.h"
#include "heed/devices/devices.h"

using namespace heed;

TEST_CASE("a layout pass allocates and moves memory through the backend it wraps, and computes nothing") {
  auto be = make_backend(BackendKind::onednn);
  LayoutBackend layout(*be);
  const size_t before = tensor_memory().in_use;
  const Tensor a = layout.allocate(Shape{4, 8});
  const Tensor b = layout.allocate(Shape{8, 3});
  const Tensor c = layout.allocate(Shape{4, 3});
  CHECK(tensor_memory().in_use - before >= (32 + 24 + 12) * sizeof(float));  // real memory, counted

  layout.fill(a, 1.0);  // memory operations are real
  layout.fill(b, 2.0);
  layout.fill(c, -5.0);
  CHECK(a.f32()[31] == 1.0f);
  layout.matmul(a, b, c);  // ops are not: c keeps what it held
  layout.softmax_forward(c, c);
  for (int64_t i = 0; i < c.numel(); ++i) CHECK(c.f32()[i] == -5.0f);
  // The same call on the wrapped backend computes it.
  be->matmul(a, b, c);
  CHECK(c.f32()[0] == 16.0f);

  // Shapes are still checked, as on every backend.
  CHECK_THROWS(layout.matmul(a, a, c));
}
