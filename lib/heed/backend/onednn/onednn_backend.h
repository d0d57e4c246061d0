#pragma once
// OneDnnBackend: the CPU backend. Matmul, softmax, layer norm, activations, broadcast add and
// reductions run as oneDNN primitives from a PrimitiveCache; the few ops oneDNN has no
// primitive for (dropout, embedding gather/scatter, the loss's row sums, axpy) are OpenMP loops.

#include <memory>

#include "heed/backend/host_memory.h"

namespace heed {

struct PrimitiveCacheStats {
  size_t entries = 0;
  int64_t hits = 0;
  int64_t misses = 0;
};

class OneDnnBackend final : public HostMemoryBackend {
 public:
  OneDnnBackend();
  ~OneDnnBackend() override;
  std::string_view name() const override { return "onednn"; }
  // bf16 and int8 where oneDNN has kernels for them on this CPU (AVX-512 or AMX for bf16).
  bool supports(Precision precision) const override;
  int32_t int8_input_limit() const override;
  // bf16 against f32, timed once per process on a [512, 256] · [256, 1024] product (the
  // operands' rounding included), the fastest of 7 runs each; 1 for other precisions.
  double matmul_speedup(Precision precision) override;
  // The scratch of a bf16 or int8 prepared product (its input rounded or quantised) and of tiled
  // attention (a tile of scores per head).
  void reserve_matmul_scratch(const Tensor& x, const PreparedWeight& w) override;
  void reserve_attention_scratch(const Tensor& q, const Tensor& k) override;

  PrimitiveCacheStats cache_stats() const;
  void clear_cache();
  void set_cache_capacity(size_t primitives);
  // oneDNN keeps its own process-wide cache of compiled kernels beneath ours; benchmarks set
  // it to 0 to measure a cold creation.
  static void set_library_cache_capacity(int capacity);

 protected:
  HEED_BACKEND_COMPUTE_OVERRIDES
  std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision) override;
  std::shared_ptr<const PreparedWeight> do_prepare_int8_weight(const Tensor& codes, const Tensor& steps, bool transposed) override;
  void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) override;

 private:
  struct State;  // oneDNN engine, stream, cache and scratch: kept out of this header
  void softmax_forward_impl(bool log, const Tensor& x, const Tensor& y);
  float* gradient_buffer(const Tensor& dx, Accumulate acc);
  void finish_gradient(const Tensor& dx, Accumulate acc);

  std::unique_ptr<State> state_;
};

}  // namespace heed
