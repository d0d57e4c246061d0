#pragma once
// The backward pass of Backend::matmul, as the matmuls it is made of. For
// c = alpha · op(a) · op(b) + bias:
//   d op(a) = alpha · dc · op(b)ᵀ      d op(b) = alpha · op(a)ᵀ · dc      dbias = Σ_rows dc
// written for each storage order so that no operand is ever copied into a transposed layout.

#include "heed/backend/backend.h"

namespace heed {

struct MatmulGradients {
  const Tensor* da = nullptr;      // a's shape; written or added as da_mode says
  Accumulate da_mode = Accumulate::no;
  const Tensor* db = nullptr;      // b's shape; always added (b is usually a weight)
  const Tensor* dbias = nullptr;   // [N]; always added
};

// `forward` is the options the forward matmul ran with (its mask has no gradient). A b
// broadcast over the batch (rank 2, as weights are) gets the sum over the batch.
void matmul_backward(Backend& backend, const Tensor& a, const Tensor& b, const Tensor& dc,
                     const MatmulOptions& forward, const MatmulGradients& grads);

}  // namespace heed
