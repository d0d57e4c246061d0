#include "support/simulated_device.h"

#include "heed/core/error.h"
#include "heed/devices/devices.h"

namespace heed::test {
namespace {

// The host's view of a device operand (and an undefined operand stays undefined).
Tensor h(const Tensor& t) {
  HEED_CHECK(t.device() == Device::cuda || t.raw() == nullptr,
             "the simulated device was given {}, which is not one of its tensors", t.describe());
  return t.as_device(Device::cpu);
}

}  // namespace

SimulatedDeviceBackend::SimulatedDeviceBackend() : host_(make_backend(BackendKind::onednn)) {}

Tensor SimulatedDeviceBackend::do_allocate(const Shape& shape, DType dtype) {
  return host_->allocate(shape, dtype).as_device(Device::cuda);
}
Tensor SimulatedDeviceBackend::do_allocate_zeroed(const Shape& shape, DType dtype) {
  return host_->allocate_zeroed(shape, dtype).as_device(Device::cuda);
}
void SimulatedDeviceBackend::do_fill(const Tensor& t, double value) { host_->fill(h(t), value); }
void SimulatedDeviceBackend::do_copy(const Tensor& src, const Tensor& dst) { host_->copy(h(src), h(dst)); }
void SimulatedDeviceBackend::do_upload(const Tensor& host, const Tensor& dst) { host_->copy(host, h(dst)); }
void SimulatedDeviceBackend::do_download(const Tensor& src, const Tensor& host) { host_->copy(h(src), host); }

void SimulatedDeviceBackend::do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  MatmulOptions options = o;
  const Tensor bias = o.bias != nullptr ? h(*o.bias) : Tensor{};
  if (o.bias != nullptr) options.bias = &bias;
  host_->matmul(h(a), h(b), h(c), options);
}
void SimulatedDeviceBackend::do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                                                 const VisibleKeys& visible, const Tensor& probs, const Tensor& out) {
  VisibleKeys host_visible = visible;
  const Tensor lengths = visible.lengths != nullptr ? h(*visible.lengths) : Tensor{};
  if (visible.lengths != nullptr) host_visible.lengths = &lengths;
  host_->attend_one_query(h(q), h(keys), h(values), alpha, host_visible, h(probs), h(out));
}
void SimulatedDeviceBackend::do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                  const TiledAttention& a, const Tensor& out, const Tensor& logsumexp) {
  TiledAttention host_a = a;
  const Tensor lengths = a.visible.lengths != nullptr ? h(*a.visible.lengths) : Tensor{};
  if (a.visible.lengths != nullptr) host_a.visible.lengths = &lengths;
  host_->attention_forward(h(q), h(k), h(v), host_a, h(out), h(logsumexp));
}
void SimulatedDeviceBackend::do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                                   const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a,
                                                   const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  TiledAttention host_a = a;
  const Tensor lengths = a.visible.lengths != nullptr ? h(*a.visible.lengths) : Tensor{};
  if (a.visible.lengths != nullptr) host_a.visible.lengths = &lengths;
  host_->attention_backward(h(q), h(k), h(v), h(out), h(logsumexp), h(d_out), host_a, h(dq), h(dk), h(dv));
}
void SimulatedDeviceBackend::do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) {
  VisibleKeys visible = keys;
  const Tensor lengths = keys.lengths != nullptr ? h(*keys.lengths) : Tensor{};
  if (keys.lengths != nullptr) visible.lengths = &lengths;
  host_->softmax_forward(h(x), h(y), visible);
}
void SimulatedDeviceBackend::do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  host_->softmax_backward(h(y), h(dy), h(dx), acc);
}
void SimulatedDeviceBackend::do_log_softmax_forward(const Tensor& x, const Tensor& y) {
  host_->log_softmax_forward(h(x), h(y));
}
void SimulatedDeviceBackend::do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                                                   const Tensor& y, const Tensor& mean, const Tensor& var) {
  host_->layer_norm_forward(h(x), h(gamma), h(beta), eps, h(y), h(mean), h(var));
}
void SimulatedDeviceBackend::do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma,
                                                    const Tensor& mean, const Tensor& var, float eps, const Tensor& dx,
                                                    const Tensor& dgamma, const Tensor& dbeta, Accumulate acc) {
  host_->layer_norm_backward(h(x), h(dy), h(gamma), h(mean), h(var), eps, h(dx), h(dgamma), h(dbeta), acc);
}
void SimulatedDeviceBackend::do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  host_->activation_forward(kind, h(x), h(y));
}
void SimulatedDeviceBackend::do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy,
                                                    const Tensor& dx, Accumulate acc) {
  host_->activation_backward(kind, h(x), h(dy), h(dx), acc);
}
void SimulatedDeviceBackend::do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) {
  host_->dropout_forward(h(x), p, seed, h(y), first);
}
void SimulatedDeviceBackend::do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx,
                                                 Accumulate acc, uint64_t first) {
  host_->dropout_backward(h(dy), p, seed, h(dx), acc, first);
}
void SimulatedDeviceBackend::do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                                                  const Tensor* row_scales) {
  const Tensor scales = row_scales ? h(*row_scales) : Tensor();
  host_->embedding_forward(h(table), h(ids), scale, h(y), row_scales ? &scales : nullptr);
}
void SimulatedDeviceBackend::do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale,
                                                   const Tensor& dtable) {
  host_->embedding_backward(h(ids), h(dy), scale, h(dtable));
}
void SimulatedDeviceBackend::do_add(const Tensor& a, const Tensor& b, const Tensor& c) { host_->add(h(a), h(b), h(c)); }
void SimulatedDeviceBackend::do_axpy(float alpha, const Tensor& x, const Tensor& y) { host_->axpy(alpha, h(x), h(y)); }
void SimulatedDeviceBackend::do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) {
  host_->sum_rows(h(x), h(y), acc);
}
double SimulatedDeviceBackend::do_sum_squares(const Tensor& x) { return host_->sum_squares(h(x)); }
void SimulatedDeviceBackend::do_swap_axes_12(const Tensor& x, const Tensor& y) { host_->swap_axes_12(h(x), h(y)); }
void SimulatedDeviceBackend::do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                        const Tensor& scores) {
  host_->additive_scores_forward(h(q), h(k), h(v), h(scores));
}
void SimulatedDeviceBackend::do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                                         const Tensor& dscores, const Tensor& dq, const Tensor& dk,
                                                         const Tensor& dv, Accumulate acc) {
  host_->additive_scores_backward(h(q), h(k), h(v), h(dscores), h(dq), h(dk), h(dv), acc);
}
void SimulatedDeviceBackend::do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) {
  host_->write_time_step(h(step), position, h(cache));
}
void SimulatedDeviceBackend::do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) {
  host_->gather_rows(h(src), h(rows), h(dst));
}
void SimulatedDeviceBackend::do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length,
                                                  const Tensor& dst) {
  host_->gather_cache_rows(h(src), h(rows), length, h(dst));
}
void SimulatedDeviceBackend::do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) {
  host_->sequence_lengths(h(ids), pad_id, h(lengths));
}
void SimulatedDeviceBackend::do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m,
                                            const Tensor& v, const AdamStep& step) {
  host_->adam_update(h(params), h(grads), h(m), h(v), step);
}
LossSums SimulatedDeviceBackend::do_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                                          const CrossEntropyOptions& options, const Tensor& log_probs) {
  return host_->cross_entropy_forward(h(logits), h(targets), options, h(log_probs));
}
void SimulatedDeviceBackend::do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                                       const CrossEntropyOptions& options, float grad_scale,
                                                       const Tensor& dlogits, Accumulate acc) {
  host_->cross_entropy_backward(h(log_probs), h(targets), options, grad_scale, h(dlogits), acc);
}

}  // namespace heed::test
