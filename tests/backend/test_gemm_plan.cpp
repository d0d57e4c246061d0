// The CUDA backend's matmul layouts (cuda/gemm_plan.h), checked without a GPU: each plan is run
// with plain loops that read memory as cuBLAS's column-major GEMM does, and must give the
// reference backend's row-major matmul in every layout, batch form and epilogue.

#include <doctest/doctest.h>

#include <tuple>

#include "heed/backend/cuda/gemm_plan.h"
#include "heed/devices/devices.h"
#include "support.h"

using namespace heed;
using namespace heed::test;

TEST_CASE("GEMM plans compute the reference's matmul in every layout, batch form, bias and accumulation") {
  auto reference = make_backend(BackendKind::reference);
  Rng rng(7);
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> sizes = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {3, 17, 1}, {13, 31, 7}};
  const std::vector<std::vector<int64_t>> batches = {{}, {3}, {2, 3}};
  int checked = 0;
  for (auto [m, k, n] : sizes)
    for (const auto& batch : batches)
      for (int layout = 0; layout < 4; ++layout)
        for (int b_form = 0; b_form < (batch.empty() ? 1 : 3); ++b_form) {  // batched b, rank-2 b, all-1 batch dims
          const bool ta = layout & 1, tb = layout & 2;
          CAPTURE(m);
          CAPTURE(k);
          CAPTURE(n);
          CAPTURE(batch.size());
          CAPTURE(layout);
          CAPTURE(b_form);
          const std::vector<int64_t> b_batch = b_form == 0 ? batch : b_form == 1 ? std::vector<int64_t>{}
                                                                                 : std::vector<int64_t>(batch.size(), 1);
          const Tensor a = random_tensor(with_batch(batch, ta ? k : m, ta ? m : k), rng);
          const Tensor b = random_tensor(with_batch(b_batch, tb ? n : k, tb ? k : n), rng);
          const Tensor c0 = random_tensor(with_batch(batch, m, n), rng);
          const Tensor bias = random_tensor(Shape{n}, rng);
          for (int epilogue = 0; epilogue < 3; ++epilogue) {  // plain; scaled; bias and accumulate
            CAPTURE(epilogue);
            MatmulOptions o{.transpose_a = ta, .transpose_b = tb};
            if (epilogue == 1) o.alpha = 0.125f;
            if (epilogue == 2) {
              o.bias = &bias;
              o.accumulate = Accumulate::yes;
            }
            Tensor expected = Tensor::empty(c0.shape()), got = Tensor::empty(c0.shape());
            expected.copy_from(c0);
            got.copy_from(c0);
            reference->matmul(a, b, expected, o);
            const GemmPlan plan = plan_gemm(a.shape(), b.shape(), c0.shape(), o);
            // cuBLAS's first operand is b's memory, its second a's.
            run_gemm_plan_on_host(plan, b.f32(), a.f32(), o.bias ? bias.f32() : nullptr, got.f32());
            CHECK(normalized_error(got, expected) <= 1e-6);
            checked += 1;
          }
        }
  CHECK(checked == 5 * (1 * 4 * 3 + 2 * 4 * 3 * 3));
}

TEST_CASE("a GEMM plan folds a batch into rows when every batch shares b") {
  const GemmPlan shared = plan_gemm(Shape{4, 6, 8}, Shape{8, 5}, Shape{4, 6, 5}, {});
  CHECK(shared.batch == 1);
  CHECK(shared.n == 24);  // 4 batches × 6 rows of a
  CHECK(shared.m == 5);
  const GemmPlan per_batch = plan_gemm(Shape{4, 6, 8}, Shape{4, 8, 5}, Shape{4, 6, 5}, {});
  CHECK(per_batch.batch == 4);
  CHECK(per_batch.first.batch_stride == 40);
  // A transposed a cannot be folded: its batches are not consecutive rows.
  const GemmPlan transposed = plan_gemm(Shape{4, 8, 6}, Shape{8, 5}, Shape{4, 6, 5}, {.transpose_a = true});
  CHECK(transposed.batch == 4);
  CHECK(transposed.first.batch_stride == 0);
}
