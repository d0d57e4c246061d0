#include "heed/backend/cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <array>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "heed/backend/cuda/caching_allocator.h"
#include "heed/backend/cuda/cublaslt_library.h"
#include "heed/backend/cuda/gemm_plan.h"
#include "heed/backend/cuda/kernels.h"
#include "heed/core/error.h"

namespace heed {
namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail("CUDA: {} failed: {}", what, cudaGetErrorString(status));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) fail("cuBLASLt: {} failed (status {})", what, static_cast<int>(status));
}

// Kernel launches report bad configurations here, not at the launch.
void launched(const char* op) { check(cudaGetLastError(), op); }

template <typename T> T* ptr(const Tensor& t) { return static_cast<T*>(t.raw()); }
float* f32(const Tensor& t) { return ptr<float>(t); }
const int32_t* i32(const Tensor& t) { return ptr<const int32_t>(t); }

cuda::KeyRule key_rule(const VisibleKeys& keys) {
  return {.lengths = keys.lengths ? i32(*keys.lengths) : nullptr, .causal = keys.causal, .first_query = keys.first_query,
          .window = keys.window, .global = keys.global, .all = keys.all()};
}

cuda::DropoutRule dropout_rule(float p, uint64_t seed, uint64_t first) { return {.p = p, .seed = seed, .first = first}; }

// The largest power of two (up to 256) that divides an address.
uint32_t alignment(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t bytes = 256;
  while (bytes > 1 && address % bytes != 0) bytes /= 2;
  return bytes;
}

cuda::AttentionSizes attention_sizes(const Tensor& q, const Tensor& k) {
  return {.batch = q.shape()[0], .heads = q.shape()[1], .queries = q.shape()[2], .keys = k.shape()[2],
          .dim = q.shape()[3], .key_rows = k.shape()[0]};
}

// The tiled attention kernels keep a head's row in registers, a warp's lanes over its width.
void check_tiled_head_width(const Tensor& q) {
  HEED_CHECK(q.shape()[3] <= cuda::kMaxHeadDim, "attention on cuda: heads of width {} (at most {})", q.shape()[3],
             cuda::kMaxHeadDim);
}

// One matmul shape's cuBLASLt objects and chosen algorithm, created on first use.
struct CachedGemm {
  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t first = nullptr, second = nullptr, out = nullptr;
  cublasLtMatmulAlgo_t algorithm{};
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const CudaOptions& options) : options_(options) {
    HEED_CHECK(options.device >= 0 && options.device < cuda_device_count(),
               "device cuda:{}: this machine has {} CUDA GPU(s)", options.device, cuda_device_count());
    bind();
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cublaslt().cublasLtCreate(&blas_), "cublasLtCreate");
    // The allocator's calls may come from any thread, bound to any device (a tensor freed where
    // another backend's work runs): each switches to this device and back.
    const int device = options.device;
    const auto on_device = [device](auto&& work) {
      int previous = 0;
      cudaGetDevice(&previous);
      cudaSetDevice(device);
      work();
      cudaSetDevice(previous);
    };
    allocator_ = std::make_shared<CachingAllocator>(CachingAllocator::Raw{
        .allocate = [on_device](size_t bytes) -> void* {
          void* p = nullptr;
          on_device([&] {
            if (cudaMalloc(&p, bytes) != cudaSuccess) {
              cudaGetLastError();  // clear the recorded error: the next launch check must not see it
              p = nullptr;
            }
          });
          return p;
        },
        .release = [on_device](void* p) { on_device([p] { cudaFree(p); }); }});
    workspace_ = allocate(Shape{kWorkspaceBytes}, DType::u8);
    sums_ = allocate(Shape{3 * static_cast<int64_t>(sizeof(double))}, DType::u8);
  }

  ~CudaBackend() override {
    cudaStreamSynchronize(stream_);
    for (auto& [key, gemm] : gemms_) {
      cublaslt().cublasLtMatrixLayoutDestroy(gemm.first);
      cublaslt().cublasLtMatrixLayoutDestroy(gemm.second);
      cublaslt().cublasLtMatrixLayoutDestroy(gemm.out);
      cublaslt().cublasLtMatmulDescDestroy(gemm.operation);
    }
    cublaslt().cublasLtDestroy(blas_);
    cudaStreamDestroy(stream_);
  }

  std::string_view name() const override { return "cuda"; }
  Device device() const override { return Device::cuda; }
  void synchronize() override {
    bind();
    synchronize("waiting for the GPU's queued work");
  }
  // bf16 with f32 sums runs on the tensor cores of every GPU this build targets (sm_80 and up).
  bool supports(Precision precision) const override { return precision == Precision::f32 || precision == Precision::bf16; }

 protected:
  HEED_BACKEND_OVERRIDES
  std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision) override;
  void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) override;

 private:
  static constexpr int64_t kWorkspaceBytes = 32 << 20;  // cuBLASLt's split-K and other algorithms

  // The CUDA runtime's current device is per host thread (translation workers run on several).
  void bind() const {
    thread_local int bound = -1;
    if (bound != options_.device) {
      check(cudaSetDevice(options_.device), "cudaSetDevice");
      bound = options_.device;
    }
  }
  void synchronize(const char* what) const { check(cudaStreamSynchronize(stream_), what); }
  // The operands' alignments (bytes: A = first, B = second, C = D = out) choose among algorithms:
  // views into an arena or a batch need not start on 256 bytes, as cuBLASLt assumes by default.
  struct Alignments {
    uint32_t first, second, out;
  };
  const CachedGemm& gemm_for(const GemmPlan& plan, bool bf16, const Alignments& alignments);
  // Runs a plan: `first` is b's memory, `second` a's, both f32 or both bf16.
  void gemm(const GemmPlan& plan, const void* first, const void* second, bool bf16, const Tensor* bias, const Tensor& c);
  Tensor rounded_to_bf16(const Tensor& x);
  // Reads the three doubles the reduction kernels summed into sums_ (cleared before each use).
  std::array<double, 3> read_sums(const char* what);

  CudaOptions options_;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t blas_ = nullptr;
  std::shared_ptr<CachingAllocator> allocator_;  // tensors hold it: it outlives them
  Tensor workspace_, sums_;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                      int64_t, int64_t, bool, bool, bool, bool, bool, uint64_t>,
           CachedGemm>
      gemms_;
};

// ---- memory ----

Tensor CudaBackend::do_allocate(const Shape& shape, DType dtype) {
  bind();
  const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  auto* block = static_cast<std::byte*>(allocator_->allocate(bytes));
  std::shared_ptr<std::byte> storage(block, [allocator = allocator_](std::byte* p) { allocator->free(p); });
  return Tensor::adopt(std::move(storage), shape, dtype, Device::cuda);
}

void CudaBackend::do_fill(const Tensor& t, double value) {
  bind();
  switch (t.dtype()) {
    case DType::f32: cuda::fill_f32(f32(t), t.numel(), static_cast<float>(value), stream_); break;
    case DType::i32: cuda::fill_i32(ptr<int32_t>(t), t.numel(), static_cast<int32_t>(value), stream_); break;
    case DType::u8: cuda::fill_u8(ptr<uint8_t>(t), t.numel(), static_cast<uint8_t>(value), stream_); break;
    default: fail("fill: {} tensors cannot be filled on cuda", dtype_name(t.dtype()));
  }
  launched("fill");
}

void CudaBackend::do_copy(const Tensor& src, const Tensor& dst) {
  bind();
  check(cudaMemcpyAsync(dst.raw(), src.raw(), src.bytes(), cudaMemcpyDeviceToDevice, stream_), "copy");
}

void CudaBackend::do_upload(const Tensor& host, const Tensor& dst) {
  bind();
  check(cudaMemcpyAsync(dst.raw(), host.raw(), host.bytes(), cudaMemcpyHostToDevice, stream_), "upload");
  synchronize("upload");  // the host memory may change as soon as this returns
}

void CudaBackend::do_download(const Tensor& src, const Tensor& host) {
  bind();
  check(cudaMemcpyAsync(host.raw(), src.raw(), src.bytes(), cudaMemcpyDeviceToHost, stream_), "download");
  synchronize("download");
}

std::array<double, 3> CudaBackend::read_sums(const char* what) {
  std::array<double, 3> host{};
  check(cudaMemcpyAsync(host.data(), sums_.raw(), sizeof(host), cudaMemcpyDeviceToHost, stream_), what);
  synchronize(what);
  return host;
}

// ---- matmul ----

const CachedGemm& CudaBackend::gemm_for(const GemmPlan& p, bool bf16, const Alignments& a) {
  const bool tf32 = options_.tf32 && !bf16;
  const auto key = std::make_tuple(p.m, p.n, p.k, p.batch, p.first.ld, p.first.batch_stride, p.second.ld,
                                   p.second.batch_stride, p.ld_out, p.out_batch_stride, p.first.rows, p.second.rows,
                                   p.first.transposed, p.second.transposed, p.bias, bf16, tf32,
                                   (uint64_t{a.first} << 32) | (uint64_t{a.second} << 16) | a.out);
  if (const auto it = gemms_.find(key); it != gemms_.end()) return it->second;

  CachedGemm g;
  check(cublaslt().cublasLtMatmulDescCreate(&g.operation, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F),
        "cublasLtMatmulDescCreate");
  const cublasOperation_t op_first = p.first.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = p.second.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(cublaslt().cublasLtMatmulDescSetAttribute(g.operation, CUBLASLT_MATMUL_DESC_TRANSA, &op_first, sizeof(op_first)), "TRANSA");
  check(cublaslt().cublasLtMatmulDescSetAttribute(g.operation, CUBLASLT_MATMUL_DESC_TRANSB, &op_second, sizeof(op_second)), "TRANSB");
  if (p.bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    const cudaDataType_t bias_type = CUDA_R_32F;
    check(cublaslt().cublasLtMatmulDescSetAttribute(g.operation, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)), "EPILOGUE");
    check(cublaslt().cublasLtMatmulDescSetAttribute(g.operation, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof(bias_type)),
          "BIAS_DATA_TYPE");
  }
  const cudaDataType_t operand_type = bf16 ? CUDA_R_16BF : CUDA_R_32F;
  const auto layout = [&](cublasLtMatrixLayout_t& l, cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                          int64_t stride) {
    check(cublaslt().cublasLtMatrixLayoutCreate(&l, type, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld),
          "cublasLtMatrixLayoutCreate");
    if (p.batch > 1) {
      const int32_t count = static_cast<int32_t>(p.batch);
      check(cublaslt().cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)), "BATCH_COUNT");
      check(cublaslt().cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)),
            "STRIDED_BATCH_OFFSET");
    }
  };
  layout(g.first, operand_type, p.first.rows, p.first.cols, p.first.ld, p.first.batch_stride);
  layout(g.second, operand_type, p.second.rows, p.second.cols, p.second.ld, p.second.batch_stride);
  layout(g.out, CUDA_R_32F, p.m, p.n, p.ld_out, p.out_batch_stride);

  cublasLtMatmulPreference_t preference = nullptr;
  check(cublaslt().cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate");
  const size_t workspace = kWorkspaceBytes;
  check(cublaslt().cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                             sizeof(workspace)),
        "MAX_WORKSPACE_BYTES");
  const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> alignments[] = {
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, a.first}, {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, a.second},
      {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, a.out}, {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, a.out}};
  for (const auto& [attribute, bytes] : alignments)
    check(cublaslt().cublasLtMatmulPreferenceSetAttribute(preference, attribute, &bytes, sizeof(bytes)), "MIN_ALIGNMENT");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublaslt().cublasLtMatmulAlgoGetHeuristic(blas_, g.operation, g.first, g.second, g.out, g.out,
                                                               preference, 1, &result, &found);
  cublaslt().cublasLtMatmulPreferenceDestroy(preference);
  check(status, "cublasLtMatmulAlgoGetHeuristic");
  HEED_CHECK(found > 0, "cuBLASLt has no algorithm for a {}×{}×{} matmul (batch {})", p.m, p.n, p.k, p.batch);
  g.algorithm = result.algo;
  return gemms_.emplace(key, g).first->second;
}

Tensor CudaBackend::rounded_to_bf16(const Tensor& x) {
  Tensor r = allocate(x.shape(), DType::bf16);
  cuda::to_bf16(f32(x), ptr<uint16_t>(r), x.numel(), stream_);
  launched("matmul (bf16 operands)");
  return r;
}

void CudaBackend::gemm(const GemmPlan& plan, const void* first, const void* second, bool bf16, const Tensor* bias,
                       const Tensor& c) {
  const CachedGemm& g = gemm_for(plan, bf16, {alignment(first), alignment(second), alignment(c.raw())});
  if (plan.bias) {
    const void* pointer = bias->raw();
    check(cublaslt().cublasLtMatmulDescSetAttribute(g.operation, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &pointer, sizeof(pointer)),
          "BIAS_POINTER");
  }
  check(cublaslt().cublasLtMatmul(blas_, g.operation, &plan.alpha, first, g.first, second, g.second, &plan.beta, c.raw(), g.out,
                       c.raw(), g.out, &g.algorithm, workspace_.raw(), kWorkspaceBytes, stream_),
        "cublasLtMatmul");
}

void CudaBackend::do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  bind();
  if (c.numel() == 0) return;
  const GemmPlan plan = plan_gemm(a.shape(), b.shape(), c.shape(), o);
  if (matmul_precision() != Precision::bf16) return gemm(plan, b.raw(), a.raw(), false, o.bias, c);
  // bf16: both operands rounded to bf16 copies, products summed in f32 (tensor cores).
  const Tensor a16 = rounded_to_bf16(a), b16 = rounded_to_bf16(b);
  gemm(plan, b16.raw(), a16.raw(), true, o.bias, c);
}

// A weight kept as a bf16 copy on the device, for bf16 translation.
class CudaBf16Weight final : public PreparedWeight {
 public:
  CudaBf16Weight(Tensor w16, bool transposed)
      : PreparedWeight(Precision::bf16, transposed ? w16.shape()[1] : w16.shape()[0], transposed ? w16.shape()[0] : w16.shape()[1]),
        w16_(std::move(w16)), transposed_(transposed) {}
  int64_t bytes() const override { return static_cast<int64_t>(w16_.bytes()); }
  const Tensor& matrix() const { return w16_; }
  bool transposed() const { return transposed_; }

 private:
  Tensor w16_;
  bool transposed_;
};

std::shared_ptr<const PreparedWeight> CudaBackend::do_prepare_weight(const Tensor& w, bool transposed, Precision precision) {
  if (precision == Precision::f32) return Backend::do_prepare_weight(w, transposed, precision);
  bind();
  auto prepared = std::make_shared<CudaBf16Weight>(rounded_to_bf16(w), transposed);
  synchronize("prepare_weight");  // other workers' streams read it
  return prepared;
}

void CudaBackend::do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y) {
  const auto* w16 = dynamic_cast<const CudaBf16Weight*>(&w);
  if (w16 == nullptr) return Backend::do_matmul_prepared(x, w, bias, y);  // f32: a view of the weight
  bind();
  const GemmPlan plan = plan_gemm(x.shape(), w16->matrix().shape(), y.shape(),
                                  {.transpose_b = w16->transposed(), .bias = bias});
  const Tensor x16 = rounded_to_bf16(x);
  gemm(plan, w16->matrix().raw(), x16.raw(), true, bias, y);
}

// ---- rows ----

void CudaBackend::do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) {
  bind();
  const bool attention = !keys.all();
  cuda::softmax_forward(f32(x), f32(y), x.shape().rows(), x.shape().cols(), attention ? x.shape()[1] : 1,
                        attention ? x.shape()[2] : 1, key_rule(keys), stream_);
  launched("softmax_forward");
}

void CudaBackend::do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  bind();
  cuda::softmax_backward(f32(y), f32(dy), f32(dx), y.shape().rows(), y.shape().cols(), acc == Accumulate::yes, stream_);
  launched("softmax_backward");
}

void CudaBackend::do_log_softmax_forward(const Tensor& x, const Tensor& y) {
  bind();
  cuda::log_softmax_forward(f32(x), f32(y), x.shape().rows(), x.shape().cols(), stream_);
  launched("log_softmax_forward");
}

void CudaBackend::do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                                        const Tensor& y, const Tensor& mean, const Tensor& var) {
  bind();
  cuda::layer_norm_forward(f32(x), f32(gamma), f32(beta), eps, f32(y), f32(mean), f32(var), x.shape().rows(),
                           x.shape().cols(), stream_);
  launched("layer_norm_forward");
}

void CudaBackend::do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& mean,
                                         const Tensor& var, float eps, const Tensor& dx, const Tensor& dgamma,
                                         const Tensor& dbeta, Accumulate acc) {
  bind();
  cuda::layer_norm_backward(f32(x), f32(dy), f32(gamma), f32(mean), f32(var), eps, f32(dx), f32(dgamma), f32(dbeta),
                            x.shape().rows(), x.shape().cols(), acc == Accumulate::yes, stream_);
  launched("layer_norm_backward");
}

void CudaBackend::do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) {
  bind();
  cuda::sum_rows(f32(x), f32(y), x.shape().rows(), x.shape().cols(), acc == Accumulate::yes, stream_);
  launched("sum_rows");
}

double CudaBackend::do_sum_squares(const Tensor& x) {
  bind();
  check(cudaMemsetAsync(sums_.raw(), 0, sums_.bytes(), stream_), "sum_squares");
  cuda::sum_squares(f32(x), x.numel(), ptr<double>(sums_), stream_);
  launched("sum_squares");
  return read_sums("sum_squares")[0];
}

LossSums CudaBackend::do_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                               const CrossEntropyOptions& options, const Tensor& log_probs) {
  bind();
  check(cudaMemsetAsync(sums_.raw(), 0, sums_.bytes(), stream_), "cross_entropy_forward");
  cuda::cross_entropy_forward(f32(logits), i32(targets), options.label_smoothing, options.ignore_id, f32(log_probs),
                              ptr<double>(sums_), logits.shape()[0], logits.shape()[1], stream_);
  launched("cross_entropy_forward");
  const auto [loss, nll, tokens] = read_sums("cross_entropy_forward");
  return {.loss = loss, .nll = nll, .tokens = std::llround(tokens)};
}

void CudaBackend::do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                            const CrossEntropyOptions& options, float grad_scale,
                                            const Tensor& dlogits, Accumulate acc) {
  bind();
  cuda::cross_entropy_backward(f32(log_probs), i32(targets), options.label_smoothing, options.ignore_id, grad_scale,
                               f32(dlogits), log_probs.shape()[0], log_probs.shape()[1], acc == Accumulate::yes,
                               stream_);
  launched("cross_entropy_backward");
}

// ---- elementwise ----

void CudaBackend::do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  bind();
  cuda::activation_forward(static_cast<int>(kind), f32(x), f32(y), x.numel(), stream_);
  launched("activation_forward");
}

void CudaBackend::do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                                         Accumulate acc) {
  bind();
  cuda::activation_backward(static_cast<int>(kind), f32(x), f32(dy), f32(dx), x.numel(),
                            acc == Accumulate::yes, stream_);
  launched("activation_backward");
}

void CudaBackend::do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) {
  bind();
  cuda::dropout_forward(f32(x), f32(y), x.numel(), dropout_rule(p, seed, first), stream_);
  launched("dropout_forward");
}

void CudaBackend::do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc,
                                      uint64_t first) {
  bind();
  cuda::dropout_backward(f32(dy), f32(dx), dy.numel(), dropout_rule(p, seed, first), acc == Accumulate::yes, stream_);
  launched("dropout_backward");
}

void CudaBackend::do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                                       const Tensor* row_scales) {
  // int8 tables come only from int8 translation, which this backend does not offer.
  HEED_CHECK(row_scales == nullptr, "embedding: int8 tables are not supported on CUDA");
  bind();
  cuda::embedding_forward(f32(table), i32(ids), scale, f32(y), ids.numel(), table.shape()[1], stream_);
  launched("embedding_forward");
}

void CudaBackend::do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) {
  bind();
  cuda::embedding_backward(i32(ids), f32(dy), scale, f32(dtable), ids.numel(), dtable.shape()[1], stream_);
  launched("embedding_backward");
}

void CudaBackend::do_add(const Tensor& a, const Tensor& b, const Tensor& c) {
  bind();
  cuda::Broadcast bc;
  bc.rank = a.shape().rank();
  int64_t stride = 1;
  for (int axis = bc.rank - 1; axis >= 0; --axis) {
    bc.dims[axis] = a.shape()[axis];
    bc.b_strides[axis] = b.shape()[axis] == 1 ? 0 : stride;
    stride *= b.shape()[axis];
  }
  cuda::add(f32(a), f32(b), f32(c), a.numel(), bc, stream_);
  launched("add");
}

void CudaBackend::do_axpy(float alpha, const Tensor& x, const Tensor& y) {
  bind();
  cuda::axpy(alpha, f32(x), f32(y), x.numel(), stream_);
  launched("axpy");
}

void CudaBackend::do_swap_axes_12(const Tensor& x, const Tensor& y) {
  bind();
  const Shape& s = x.shape();
  cuda::swap_axes_12(f32(x), f32(y), s[0], s[1], s[2], s[3], stream_);
  launched("swap_axes_12");
}

void CudaBackend::do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                                 const AdamStep& s) {
  bind();
  const double correction1 = 1.0 - std::pow(static_cast<double>(s.beta1), static_cast<double>(s.step));
  const double correction2 = 1.0 - std::pow(static_cast<double>(s.beta2), static_cast<double>(s.step));
  cuda::adam_update(f32(params), f32(grads), f32(m), f32(v), params.numel(), s.learning_rate, s.beta1, s.beta2,
                    s.epsilon, s.grad_scale, correction1, correction2, stream_);
  launched("adam_update");
}

// ---- attention ----

void CudaBackend::do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& scores) {
  bind();
  cuda::additive_scores_forward(f32(q), f32(k), f32(v), f32(scores), attention_sizes(q, k), stream_);
  launched("additive_scores_forward");
}

void CudaBackend::do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores,
                                              const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc) {
  bind();
  cuda::additive_scores_backward(f32(q), f32(k), f32(v), f32(dscores), f32(dq), f32(dk), f32(dv),
                                 attention_sizes(q, k), acc == Accumulate::yes, stream_);
  launched("additive_scores_backward");
}

void CudaBackend::do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                                      const VisibleKeys& visible, const Tensor& probs, const Tensor& out) {
  bind();
  cuda::attend_one_query(f32(q), f32(keys), f32(values), alpha, key_rule(visible), f32(probs), f32(out),
                         attention_sizes(q, keys), stream_);
  launched("attend_one_query");
}

void CudaBackend::do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                                       const Tensor& out, const Tensor& logsumexp) {
  bind();
  check_tiled_head_width(q);
  cuda::attention_forward(f32(q), f32(k), f32(v), a.alpha, key_rule(a.visible), dropout_rule(a.dropout, a.seed, a.first),
                          f32(out), f32(logsumexp), attention_sizes(q, k), stream_);
  launched("attention_forward");
}

void CudaBackend::do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                        const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a,
                                        const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  bind();
  check_tiled_head_width(q);
  const Tensor row_dot = allocate(Shape{q.shape().rows()});
  cuda::attention_backward(f32(q), f32(k), f32(v), f32(out), f32(logsumexp), f32(d_out), a.alpha, key_rule(a.visible),
                           dropout_rule(a.dropout, a.seed, a.first), f32(dq), f32(dk), f32(dv), f32(row_dot),
                           attention_sizes(q, k), stream_);
  launched("attention_backward");
}

// ---- caches and batches ----

void CudaBackend::do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) {
  bind();
  cuda::write_time_step(f32(step), f32(cache), step.shape()[0] * step.shape()[1], step.shape()[2], cache.shape()[2],
                        position, stream_);
  launched("write_time_step");
}

void CudaBackend::do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) {
  bind();
  const int64_t row_bytes = src.shape()[0] ? static_cast<int64_t>(src.bytes()) / src.shape()[0] : 0;
  if (rows.numel() == 0 || row_bytes == 0) return;
  cuda::gather_rows(ptr<const uint8_t>(src), i32(rows), ptr<uint8_t>(dst), rows.numel(), row_bytes, stream_);
  launched("gather_rows");
}

void CudaBackend::do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) {
  bind();
  cuda::gather_cache_rows(f32(src), i32(rows), f32(dst), rows.numel(), src.shape()[1], src.shape()[2], dst.shape()[2],
                          length, src.shape()[3], stream_);
  launched("gather_cache_rows");
}

void CudaBackend::do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) {
  bind();
  cuda::sequence_lengths(i32(ids), pad_id, ptr<int32_t>(lengths), ids.shape()[0], ids.shape()[1], stream_);
  launched("sequence_lengths");
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const CudaOptions& options) { return std::make_unique<CudaBackend>(options); }

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver, or no GPU: not an error for a build that also runs on CPUs
    return 0;
  }
  return count;
}

std::string cuda_device_description(int device) {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  return fmt::format("cuda:{} {} (compute capability {}.{}, {:.0f} GiB)", device, p.name, p.major, p.minor,
                     static_cast<double>(p.totalGlobalMem) / (1 << 30));
}

}  // namespace heed
