#pragma once
// Backend: the compute interface every layer is written against. It holds no oneDNN (or CUDA)
// type, so the model code compiles and reads the same whatever runs it.
//
// Implementations (made by devices/devices.h, the one place that knows them all):
//   onednn/     the CPU backend: oneDNN primitives, created once per shape and reused
//   cuda/       NVIDIA GPUs: cuBLASLt matmuls and heed's own kernels
//   reference/  plain loops with double accumulators; the oracle for tests, never fast
//
// Conventions:
//   - Tensors are contiguous, row-major, f32 unless stated (token ids are i32).
//   - "Over the last axis" ops treat a tensor as [rows, cols] with cols = the last dim.
//   - Backward ops take an Accumulate argument for the input gradient: Accumulate::no writes
//     it, Accumulate::yes adds into it (fan-in: residuals, tied embeddings). Parameter
//     gradients (dgamma, dbeta, dtable, bias sums) always accumulate.
//   - Public methods validate shapes and dtypes once, here, then call the implementation,
//     so every backend rejects bad arguments with the same message.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "heed/backend/key_ranges.h"
#include "heed/backend/prepared_weight.h"
#include "heed/core/tensor.h"

namespace heed {

enum class Accumulate : bool { no = false, yes = true };

// gelu: the exact erf form; swish: x · σ(x) (also called SiLU; OPUS-MT's models use it)
enum class Activation : uint8_t { relu, gelu, swish };

// A score that removes a key from a softmax without producing NaN when a whole row is hidden
// (-inf would): such a row becomes uniform instead.
inline constexpr float kMaskedScore = -1e9f;

// Which keys each query of attention scores [B, H, T, S] may see, described by lengths rather
// than a mask tensor, so that each backend builds the mask its own way (or never builds one).
// Query t sits at position p = first_query + t; it sees key s when s < lengths[b] (if given),
// if causal s <= p, and with a window |p − s| <= window, unless p or s is one of the first
// `global` positions (local attention with Longformer's global tokens).
struct VisibleKeys {
  const Tensor* lengths = nullptr;  // i32 [B]: the keys of sequence b are [0, lengths[b])
  bool causal = false;
  int64_t first_query = 0;          // the position of query 0 (decoding step by step)
  int64_t window = 0;               // > 0: keys at most this far from the query (before it, if causal)
  int64_t global = 0;               // with a window: the positions that see and are seen by all
  bool all() const { return lengths == nullptr && !causal && window == 0; }

  // What the query at `position` sees of a sequence whose keys are [0, end) (key_ranges.h).
  using Ranges = KeyRanges;
  Ranges ranges(int64_t position, int64_t end) const { return visible_key_ranges(causal, window, global, position, end); }
};

// Attention computed in tiles (Backend::attention_forward): the options of one call.
struct TiledAttention {
  float alpha = 1.0f;    // scores = alpha · q · kᵀ
  VisibleKeys visible{}; // as for softmax_forward, except that a query seeing no key gets zeros
  float dropout = 0.0f;  // on the probabilities: the mask dropout_forward(p, seed, first) draws for [B, H, T, S]
  uint64_t seed = 0;
  uint64_t first = 0;
};

struct MatmulOptions {
  bool transpose_a = false;            // a is stored [..., K, M]
  bool transpose_b = false;            // b is stored [..., N, K]
  float alpha = 1.0f;                  // scales op(a)·op(b); not combined with bias
  const Tensor* bias = nullptr;        // [N], added to every row
  Accumulate accumulate = Accumulate::no;  // c += result
};

struct CrossEntropyOptions {
  float label_smoothing = 0.0f;        // ε: the target distribution is (1-ε)·onehot + ε/V
  int32_t ignore_id = -1;              // rows with this target count nothing (padding)
};

struct LossSums {
  double loss = 0.0;   // Σ label-smoothed cross-entropy over counted rows
  double nll = 0.0;    // Σ −log p(target) over counted rows (perplexity's numerator)
  int64_t tokens = 0;  // counted rows
  // Set by Transformer::forward_loss when training with guided alignment: that term (already
  // included in loss) and the target positions it counted.
  double alignment = 0.0;
  int64_t aligned_rows = 0;
};

// One Adam update (Kingma & Ba 2015) with bias correction, over flat f32 tensors:
//   g = grad_scale · grad;  m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²
//   θ −= lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
struct AdamStep {
  float learning_rate = 5e-4f;
  float beta1 = 0.9f;
  float beta2 = 0.98f;
  float epsilon = 1e-9f;
  float grad_scale = 1.0f;  // gradient clipping's factor
  int64_t step = 1;         // t, from 1
};

class Backend;

// What runs around every op, at its one entry point (Backend's public methods): a profiler times
// the ops (op_profiler.h), a layout pass skips their arithmetic (layout_pass.h). Memory ops (fill,
// copy, upload, download) always run, so that what is put on a device stays there.
enum class OpKind : uint8_t { memory, compute };
class OpHooks {
 public:
  virtual ~OpHooks() = default;
  // Before op `op` (a short name: "matmul", "softmax_backward"); false skips a compute op, which
  // then only asks for the scratch it would take (reserve_*_scratch).
  virtual bool before(Backend& be, std::string_view op, OpKind kind) = 0;
  virtual void after(Backend& be, std::string_view op) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  virtual Device device() const { return Device::cpu; }
  // Returns once every op issued so far has finished. A CPU backend runs each op before it
  // returns, so this does nothing there; a GPU backend queues kernels and returns at once, so a
  // clock read without this measures launches, not work.
  virtual void synchronize() {}

  // Hooks around every op from now on (nullptr: none); returns the ones they replace.
  OpHooks* set_hooks(OpHooks* hooks) { return std::exchange(hooks_, hooks); }
  OpHooks* hooks() const { return hooks_; }

  // ---- Memory ----
  // Every operand lives on device(). Model, decoding and training code create, clear, copy and
  // read tensors only through these (and Buffer, which allocates through allocate()), so that
  // a device backend serves all of it by implementing them.
  Tensor allocate(const Shape& shape, DType dtype = DType::f32);  // contents undefined
  Tensor allocate_zeroed(const Shape& shape, DType dtype = DType::f32);
  void fill(const Tensor& t, double value);                        // f32, i32 or u8; converted
  void copy(const Tensor& src, const Tensor& dst);                 // same shape and dtype
  void upload(const Tensor& host, const Tensor& dst);              // a CPU tensor into dst
  void download(const Tensor& src, const Tensor& host);            // src into a CPU tensor
  // A host tensor as an operand, and an operand read on the host: on a CPU backend the tensor
  // itself, no copy; on a device, a copy into `staging` (grown as needed).
  Tensor to_device(const Tensor& host, Tensor& staging);
  Tensor to_host(const Tensor& t, Tensor& staging);

  // c[..., M, N] = alpha · op(a)[..., M, K] · op(b)[..., K, N] + bias  (+ c)
  // a and c share their batch dims; b has the same batch dims, all-1 batch dims, or rank 2
  // (one matrix for the whole batch, as weights are).
  void matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& options = {});

  // How every later matmul of two f32 tensors computes: f32, or bf16 (both operands rounded to
  // bf16, the products summed in f32: AMX's and AVX-512 BF16's form), as
  // `heed train --precision bf16` runs. Products with prepared weights keep their own precision.
  // Virtual so that a backend wrapping another passes it on.
  virtual void set_matmul_precision(Precision precision);
  Precision matmul_precision() const { return matmul_precision_; }
  // How many times faster a matmul of m30k-small's size runs in `precision` than in f32 on this
  // backend, conversions included: measured once per process where the backend can (the CPU's),
  // 1 where it cannot say. bf16 is not faster everywhere it exists: AVX-512 BF16's dot product
  // gives half of f32 FMA's products per cycle on Intel cores without AMX.
  virtual double matmul_speedup(Precision) { return 1.0; }

  // A weight for many products x · W (prepared_weight.h): w is [in, out], or [out, in] stored
  // transposed (a tied output table). Throws when this backend has no kernels for `precision`
  // (supports() says beforehand). The result holds no reference to w or to this backend: every
  // backend of the same kind may use it (translation workers share one).
  std::shared_ptr<const PreparedWeight> prepare_weight(const Tensor& w, bool transposed, Precision precision);
  // The int8 weight that prepare_weight(w, transposed, int8) gives for w = codes · steps (a step
  // per output channel, the rule of prepare_weight.h: an int8 model file's tensor), made from the
  // codes themselves, so that translating an int8 file never holds its weights in f32. codes i8
  // [in, out] or, transposed, [out, in], and steps f32 [out], on the host.
  std::shared_ptr<const PreparedWeight> prepare_int8_weight(const Tensor& codes, const Tensor& steps, bool transposed);
  virtual bool supports(Precision precision) const { return precision == Precision::f32; }
  // The largest code of an int8 product's quantised input (prepared_weight.h): what this
  // backend's int8 kernels sum exactly.
  virtual int32_t int8_input_limit() const { return kInt8FullInputLimit; }
  // y [rows, out] = x [rows, in] · W + bias [out]
  void matmul(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y);

  // ---- Scratch for a layout pass ----
  // A layout pass (layout_pass.h) runs a model with every op's arithmetic skipped, so as to lay
  // out every buffer before the real work. An op that also takes memory from the backend's own
  // scratch asks for it here instead, with the same operands, so that the real op finds it. By
  // default there is no scratch.
  virtual void reserve_matmul_scratch(const Tensor& x, const PreparedWeight& w) { (void)x, (void)w; }
  virtual void reserve_attention_scratch(const Tensor& q, const Tensor& k) { (void)q, (void)k; }

  // y = softmax(x) over the last axis. With `keys` (x is attention scores [B, H, T, S]), over
  // the visible keys only: hidden keys get probability 0, and x's hidden entries may be
  // overwritten (scores are scratch).
  void softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys = {});
  // dx = y ⊙ (dy − Σ_last dy ⊙ y)
  void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc);
  // y = x − log Σ_last exp(x)
  void log_softmax_forward(const Tensor& x, const Tensor& y);

  // y = (x − mean) / sqrt(var + eps) · gamma + beta over the last axis [rows, C];
  // mean and var ([rows]) are saved for the backward pass.
  void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                          const Tensor& y, const Tensor& mean, const Tensor& var);
  void layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                           const Tensor& mean, const Tensor& var, float eps, const Tensor& dx,
                           const Tensor& dgamma, const Tensor& dbeta, Accumulate acc);

  void activation_forward(Activation kind, const Tensor& x, const Tensor& y);
  void activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                           Accumulate acc);

  // y = x · keep / (1 − p), keep ~ Bernoulli(1 − p) drawn from (seed, element index), so the
  // backward pass regenerates the same mask from the same seed. Element i draws as element
  // first + i of a larger tensor would (a share of a batch split between processes).
  void dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first = 0);
  void dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc, uint64_t first = 0);

  // y[n, :] = scale · table[ids[n], :]     table [V, D], ids i32 [N], y [N, D]
  // With row_scales: table is int8 codes [V, D] with a scale per row (f32 [V]), and
  // y[n, :] = scale · (table[ids[n], :] · row_scales[ids[n]]), each code times its row's scale in
  // f32 first, as the dequantised table would hold it.
  void embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                         const Tensor* row_scales = nullptr);
  // dtable[ids[n], :] += scale · dy[n, :]  (scatter-add; repeated ids add up)
  void embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable);

  // c = a + b; b is a's shape or broadcasts to it (same rank, dims a's or 1). c may alias a.
  void add(const Tensor& a, const Tensor& b, const Tensor& c);
  // y += alpha · x
  void axpy(float alpha, const Tensor& x, const Tensor& y);
  // y[C] = Σ_rows x[rows, C]   (a bias's gradient)
  void sum_rows(const Tensor& x, const Tensor& y, Accumulate acc);
  // Σ x², accumulated in double (the global gradient norm)
  double sum_squares(const Tensor& x);

  // y[a, c, b, d] = x[a, b, c, d]: splits [B, T, H, dh] into heads [B, H, T, dh] and merges
  // them back (the same op on the swapped shape is its own backward).
  void swap_axes_12(const Tensor& x, const Tensor& y);

  // Additive attention scores (Bahdanau et al. 2014), per head h:
  //   scores[b, h, t, s] = Σ_j v[h, j] · tanh(q[b, h, t, j] + k[b, h, s, j])
  // q [B, H, T, d], k [B, H, S, d], v [H, d], scores [B, H, T, S]. q and k are already
  // projected (W_q·q and W_k·k of the paper). The backward pass recomputes the tanh rather
  // than storing a [B, H, T, S, d] tensor.
  void additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& scores);
  // dq, dk as acc says; dv always accumulates.
  void additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores,
                                const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc);

  // Attention of one query per sequence and head over its keys (a decoding step), in one pass
  // that reads only the visible keys:
  //   probs[b, h, 0, s] = softmax_s(alpha · q[b, h, 0, :] · keys[b, h, s, :]) over visible s, 0 elsewhere
  //   out[b, h, 0, :]   = Σ_s probs[b, h, 0, s] · values[b, h, s, :]
  // q and out [B, H, 1, d]; keys and values [K, H, S, d] (a cache of capacity S) with B a multiple
  // of K: rows [k·B/K, (k+1)·B/K) read key row k (a sentence's beams share its memory); probs
  // [B, H, 1, S]. `visible` as for softmax_forward, its lengths per key row (a query that sees no
  // key is uniform over all).
  // The same numbers as matmul, softmax_forward and matmul, without the [B, H, 1, S] scores
  // round trip or the products with the unfilled part of a cache.
  void attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                        const VisibleKeys& visible, const Tensor& probs, const Tensor& out);

  // Attention that never holds the [T × S] scores: key tiles are scored, softmaxed with a running
  // maximum and sum (the online softmax of Milakov & Gimelshein 2018, tiled as FlashAttention
  // does) and weighed into the output one at a time, and the key tiles no query of a query tile
  // sees (a window, a causal mask) are never touched. Memory is linear in T + S; with a window,
  // so is time. q [B, H, T, d], k and v [B, H, S, d]:
  //   out[b, h, t, :] = Σ_s dropout(softmax_s(alpha · q[b, h, t, :] · k[b, h, s, :]))[s] · v[b, h, s, :]
  // over the keys `a.visible` lets t see (none: out = 0); logsumexp [B, H, T] receives each row's
  // log Σ_s exp(score) over those keys (−inf for none), which the backward pass reads.
  void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                         const Tensor& out, const Tensor& logsumexp);
  // The gradients of attention_forward (written, not added) from its out and logsumexp.
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                          const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a, const Tensor& dq,
                          const Tensor& dk, const Tensor& dv);

  // cache[b, h, position, :] = step[b, h, :]    step [B, H, d], cache [B, H, capacity, d]
  // (a decoder's self-attention keys/values, one position at a time)
  void write_time_step(const Tensor& step, int64_t position, const Tensor& cache);

  // dst[i, ...] = src[rows[i], ...]: picks, repeats and reorders the first axis (beam search
  // reorders its caches so). rows is i32 [M]; dst is [M, ...] with src's other dims.
  void gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst);

  // gather_rows for key/value caches [B, H, capacity, d] of which only positions [0, length)
  // are filled: copies just those (a cache is mostly empty early in decoding). dst may have
  // another capacity (at least length): a cache grows so.
  void gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst);

  // lengths[b] = the position of the first pad_id in ids[b, :] (padding trails), or S without one.
  // ids i32 [B, S], lengths i32 [B]: the VisibleKeys of a padded batch.
  void sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths);

  // The optimizer's update; params, grads, m and v have one shape.
  void adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v, const AdamStep& step);

  // Label-smoothed cross-entropy of logits [N, V] against targets i32 [N]. log_probs [N, V]
  // receives log_softmax(logits), which the backward pass reads.
  LossSums cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                 const CrossEntropyOptions& options, const Tensor& log_probs);
  // dlogits = grad_scale · (softmax(logits) − target distribution) on counted rows, 0 elsewhere
  void cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                              const CrossEntropyOptions& options, float grad_scale,
                              const Tensor& dlogits, Accumulate acc);

 protected:
  virtual Tensor do_allocate(const Shape& shape, DType dtype) = 0;
  // By default allocate and fill; a backend that can get zeroed memory without writing it (the
  // host's fresh pages) overrides this, so that zeroed memory costs nothing until used.
  virtual Tensor do_allocate_zeroed(const Shape& shape, DType dtype);
  virtual void do_fill(const Tensor& t, double value) = 0;
  virtual void do_copy(const Tensor& src, const Tensor& dst) = 0;
  virtual void do_upload(const Tensor& host, const Tensor& dst) = 0;
  virtual void do_download(const Tensor& src, const Tensor& host) = 0;
  virtual void do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) = 0;
  // By default f32 only, as a view of w multiplied by matmul() (PlainWeight below).
  virtual std::shared_ptr<const PreparedWeight> do_prepare_weight(const Tensor& w, bool transposed, Precision precision);
  // By default dequantises the codes and prepares the f32 matrix that gives.
  virtual std::shared_ptr<const PreparedWeight> do_prepare_int8_weight(const Tensor& codes, const Tensor& steps, bool transposed);
  virtual void do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor* bias, const Tensor& y);
  virtual void do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) = 0;
  virtual void do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) = 0;
  virtual void do_log_softmax_forward(const Tensor& x, const Tensor& y) = 0;
  virtual void do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                                     const Tensor& y, const Tensor& mean, const Tensor& var) = 0;
  virtual void do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                      const Tensor& mean, const Tensor& var, float eps, const Tensor& dx,
                                      const Tensor& dgamma, const Tensor& dbeta, Accumulate acc) = 0;
  virtual void do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) = 0;
  virtual void do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                                      Accumulate acc) = 0;
  virtual void do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) = 0;
  virtual void do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc, uint64_t first) = 0;
  virtual void do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                                    const Tensor* row_scales) = 0;
  virtual void do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) = 0;
  virtual void do_add(const Tensor& a, const Tensor& b, const Tensor& c) = 0;
  virtual void do_axpy(float alpha, const Tensor& x, const Tensor& y) = 0;
  virtual void do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) = 0;
  virtual double do_sum_squares(const Tensor& x) = 0;
  virtual void do_swap_axes_12(const Tensor& x, const Tensor& y) = 0;
  virtual void do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& scores) = 0;
  virtual void do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores,
                                           const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc) = 0;
  virtual void do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) = 0;
  virtual void do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                                   const VisibleKeys& visible, const Tensor& probs, const Tensor& out) = 0;
  virtual void do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                                    const Tensor& out, const Tensor& logsumexp) = 0;
  virtual void do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                     const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a,
                                     const Tensor& dq, const Tensor& dk, const Tensor& dv) = 0;
  virtual void do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) = 0;
  virtual void do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) = 0;
  virtual void do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) = 0;
  virtual void do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                              const AdamStep& step) = 0;
  Precision matmul_precision_ = Precision::f32;

 private:
  // Runs `compute` (an op's do_*) within the hooks, if any; `skipped` when they skip it.
  template <typename Compute, typename Skipped = void (*)()>
  auto hooked(std::string_view op, OpKind kind, Compute&& compute, Skipped&& skipped = [] {});
  OpHooks* hooks_ = nullptr;
  bool inside_op_ = false;

  virtual LossSums do_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                            const CrossEntropyOptions& options, const Tensor& log_probs) = 0;
  virtual void do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                         const CrossEntropyOptions& options, float grad_scale,
                                         const Tensor& dlogits, Accumulate acc) = 0;
};

// The overrides every implementation declares, listed once so that they stay in step with the
// pure virtual functions above: memory, then compute. The backends on host memory inherit the
// first from HostMemoryBackend (host_memory.h).
#define HEED_BACKEND_OVERRIDES \
  HEED_BACKEND_MEMORY_OVERRIDES \
  HEED_BACKEND_COMPUTE_OVERRIDES
#define HEED_BACKEND_MEMORY_OVERRIDES \
  Tensor do_allocate(const Shape& shape, DType dtype) override; \
  void do_fill(const Tensor& t, double value) override; \
  void do_copy(const Tensor& src, const Tensor& dst) override; \
  void do_upload(const Tensor& host, const Tensor& dst) override; \
  void do_download(const Tensor& src, const Tensor& host) override;
#define HEED_BACKEND_COMPUTE_OVERRIDES \
  void do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) override; \
  void do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) override; \
  void do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) override; \
  void do_log_softmax_forward(const Tensor& x, const Tensor& y) override; \
  void do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, const Tensor& y, const Tensor& mean, const Tensor& var) override; \
  void do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& mean, const Tensor& var, float eps, const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta, Accumulate acc) override; \
  void do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) override; \
  void do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx, Accumulate acc) override; \
  void do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) override; \
  void do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc, uint64_t first) override; \
  void do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,                  \
                            const Tensor* row_scales) override;                                                       \
  void do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) override; \
  void do_add(const Tensor& a, const Tensor& b, const Tensor& c) override; \
  void do_axpy(float alpha, const Tensor& x, const Tensor& y) override; \
  void do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) override; \
  double do_sum_squares(const Tensor& x) override; \
  void do_swap_axes_12(const Tensor& x, const Tensor& y) override; \
  void do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& scores) override; \
  void do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores, const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc) override; \
  void do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) override; \
  void do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha, const VisibleKeys& visible, const Tensor& probs, const Tensor& out) override; \
  void do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a, const Tensor& out, const Tensor& logsumexp) override; \
  void do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a, const Tensor& dq, const Tensor& dk, const Tensor& dv) override; \
  void do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) override; \
  void do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) override; \
  void do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) override; \
  void do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v, const AdamStep& step) override; \
  LossSums do_cross_entropy_forward(const Tensor& logits, const Tensor& targets, const CrossEntropyOptions& options, const Tensor& log_probs) override; \
  void do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets, const CrossEntropyOptions& options, float grad_scale, const Tensor& dlogits, Accumulate acc) override;

// The default prepared weight: a view of the original f32 matrix, multiplied by matmul().
class PlainWeight final : public PreparedWeight {
 public:
  PlainWeight(const Tensor& w, bool transposed)
      : PreparedWeight(Precision::f32, transposed ? w.shape()[1] : w.shape()[0], transposed ? w.shape()[0] : w.shape()[1]),
        w_(w), transposed_(transposed) {}
  int64_t bytes() const override { return 0; }
  const Tensor& matrix() const { return w_; }
  bool transposed() const { return transposed_; }

 private:
  Tensor w_;
  bool transposed_;
};

// Where element `linear` of a tensor of shape `full` reads from a tensor of shape `small` that
// broadcasts to it (same rank, each dim equal or 1).
int64_t broadcast_offset(const Shape& full, const Shape& small, int64_t linear);

}  // namespace heed
