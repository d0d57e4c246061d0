#pragma once
// Internal to the oneDNN backend: what its source files (onednn_backend.cpp, prepared_matmul.cpp)
// share. Nothing outside backend/onednn/ includes this.

#include <omp.h>

#include <algorithm>
#include <string_view>

#include <oneapi/dnnl/dnnl.hpp>

#include "heed/backend/onednn/onednn_backend.h"
#include "heed/backend/onednn/primitive_cache.h"
#include "heed/core/error.h"

namespace heed {
namespace onednn_detail {

enum class Op : int64_t {
  matmul = 1, softmax, log_softmax, softmax_backward,
  layer_norm, layer_norm_backward, activation, activation_backward, swap_axes_12,
  prepared_matmul, tile_matmul,
};

// The key starts with the op and the thread count: oneDNN specialises kernels for both.
inline PrimitiveKey key_for(Op op) {
  PrimitiveKey key;
  key.add(static_cast<int64_t>(op)).add(static_cast<int64_t>(omp_get_max_threads()));
  return key;
}

// Builds a primitive, turning oneDNN's exceptions into heed::Error that names the op.
template <typename Build>
CachedPrimitive build_or_fail(std::string_view op, Build&& build) {
  try {
    return build();
  } catch (const dnnl::error& e) {
    fail("oneDNN could not create {}: {}", op, e.what());
  }
}

// bf16 copies of n f32 values, rounded to nearest even as oneDNN rounds (NaN payloads aside):
// the operands of matmuls in bf16 mode and the inputs of bf16 prepared products.
void round_to_bf16(const float* x, uint16_t* y, int64_t n);

// Grow-only host memory for intermediate results (zeroed when it grows).
class Scratch {
 public:
  float* floats(int64_t count) {
    const int64_t held = storage_.raw() ? storage_.numel() : 0;
    if (held < count) storage_ = Tensor::zeros(Shape{std::max(count, held * 3 / 2)});
    return storage_.f32();
  }
  void* bytes(int64_t count) { return floats((count + 3) / 4); }

 private:
  Tensor storage_;
};

}  // namespace onednn_detail

struct OneDnnBackend::State {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  PrimitiveCache cache;
  onednn_detail::Scratch gradient_scratch;   // input gradients that must be added, not written
  onednn_detail::Scratch parameter_scratch;  // layer norm's scale/shift gradients before they are added
  onednn_detail::Scratch low_precision_input;   // x in bf16 or int8 for a prepared matmul; a in bf16 mode
  onednn_detail::Scratch low_precision_weight;  // b in bf16 mode
  onednn_detail::Scratch row_steps;             // int8: the quantisation step of each row of x
  onednn_detail::Scratch attention_tiles;       // tiled attention: a tile's scores, probabilities, gradients
  onednn_detail::Scratch attention_rows;        // tiled attention: numbers per query row (running max and sum; D)
};

}  // namespace heed
