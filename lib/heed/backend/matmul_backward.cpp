#include "heed/backend/matmul_backward.h"

#include "heed/core/error.h"

namespace heed {
namespace {

MatmulOptions product(bool transpose_a, bool transpose_b, float alpha, Accumulate accumulate) {
  MatmulOptions o;
  o.transpose_a = transpose_a;
  o.transpose_b = transpose_b;
  o.alpha = alpha;
  o.accumulate = accumulate;
  return o;
}

// Views the [batch..., rows, cols] tensor as one [batch·rows, cols] matrix.
Tensor flatten_batch(const Tensor& t) { return t.reshape(Shape{t.shape().rows(), t.shape().cols()}); }

// The i-th matrix of a batched [batch..., rows, cols] tensor.
Tensor batch_item(const Tensor& t, int64_t i) {
  const int64_t rows = t.shape()[-2], cols = t.shape()[-1];
  return flatten_batch(t).slice_rows(i * rows, (i + 1) * rows).reshape(Shape{rows, cols});
}

}  // namespace

void matmul_backward(Backend& backend, const Tensor& a, const Tensor& b, const Tensor& dc,
                     const MatmulOptions& fwd, const MatmulGradients& grads) {
  const bool ta = fwd.transpose_a, tb = fwd.transpose_b;
  const float alpha = fwd.alpha;
  const int rank = dc.shape().rank();
  const bool b_broadcast = b.shape().rank() == 2 && rank > 2;
  if (b.shape().rank() == rank) {
    for (int i = 0; i + 2 < rank; ++i)
      HEED_CHECK(b.shape()[i] == dc.shape()[i],
                 "matmul_backward: b {} broadcasts over some batch dims of {}; only a rank-2 b may broadcast",
                 b.shape().str(), dc.shape().str());
  }
  const int64_t batch = dc.shape().rows() / dc.shape()[-2];

  if (grads.da != nullptr) {
    if (!ta) {
      // da[M, K] = alpha · dc · op(b)ᵀ; op(b)ᵀ is b itself when b is stored transposed.
      backend.matmul(dc, b, *grads.da, product(false, !tb, alpha, grads.da_mode));
    } else if (!b_broadcast) {
      // da is stored [K, M] = alpha · op(b) · dcᵀ
      backend.matmul(b, dc, *grads.da, product(tb, true, alpha, grads.da_mode));
    } else {
      for (int64_t i = 0; i < batch; ++i)
        backend.matmul(b, batch_item(dc, i), batch_item(*grads.da, i), product(tb, true, alpha, grads.da_mode));
    }
  }

  if (grads.db != nullptr) {
    if (!b_broadcast) {
      // db = alpha · op(a)ᵀ · dc, or stored transposed: alpha · dcᵀ · op(a)
      if (!tb)
        backend.matmul(a, dc, *grads.db, product(!ta, false, alpha, Accumulate::yes));
      else
        backend.matmul(dc, a, *grads.db, product(true, ta, alpha, Accumulate::yes));
    } else if (!ta) {
      // A weight shared by the whole batch: one product over all batch·M rows sums it.
      const Tensor a2 = flatten_batch(a), dc2 = flatten_batch(dc);
      if (!tb)
        backend.matmul(a2, dc2, *grads.db, product(true, false, alpha, Accumulate::yes));
      else
        backend.matmul(dc2, a2, *grads.db, product(true, false, alpha, Accumulate::yes));
    } else {
      for (int64_t i = 0; i < batch; ++i) {
        const Tensor ai = batch_item(a, i), dci = batch_item(dc, i);
        if (!tb)
          backend.matmul(ai, dci, *grads.db, product(false, false, alpha, Accumulate::yes));
        else
          backend.matmul(dci, ai, *grads.db, product(true, true, alpha, Accumulate::yes));
      }
    }
  }

  if (grads.dbias != nullptr) backend.sum_rows(dc, *grads.dbias, Accumulate::yes);
}

}  // namespace heed
