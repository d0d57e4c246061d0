#include "support/host_adapter.h"

#include <cstdlib>
#include <string>

#include "heed/devices/devices.h"
#include "heed/core/error.h"
#include "support.h"
#include "support/simulated_device.h"

namespace heed::test {

std::unique_ptr<Backend> backend_under_test() {
  const char* chosen = std::getenv("HEED_TEST_DEVICE");
  const std::string device = chosen != nullptr ? chosen : "cpu";
  if (device == "cpu") return make_backend(BackendKind::onednn);
  if (device == "simulated") return std::make_unique<HostAdapter>(std::make_unique<SimulatedDeviceBackend>());
  return std::make_unique<HostAdapter>(make_backend(parse_device(device)));  // cuda, cuda:N
}

HostAdapter::HostAdapter(std::unique_ptr<Backend> device) : device_(std::move(device)) {}

Tensor HostAdapter::in(const Tensor& host) {
  if (host.raw() == nullptr) return host;
  Tensor d = device_->allocate(host.shape(), host.dtype());
  device_->upload(host, d);
  return d;
}

Tensor HostAdapter::out(const Tensor& host) {
  Tensor d = in(host);  // with its contents: accumulating ops add to them
  outputs_.emplace_back(host, d);
  return d;
}

void HostAdapter::written() {
  for (const auto& [host, d] : outputs_) device_->download(d, host);
  outputs_.clear();
}


void HostAdapter::do_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  MatmulOptions options = o;
  const Tensor bias = o.bias != nullptr ? in(*o.bias) : Tensor{};
  if (o.bias != nullptr) options.bias = &bias;
  device_->matmul(in(a), in(b), out(c), options);
  written();
}

namespace {

// VisibleKeys (or TiledAttention) with its lengths replaced by a device copy held in `lengths`.
template <typename Adapter>
VisibleKeys on_device(const VisibleKeys& keys, Tensor& lengths, Adapter&& in) {
  VisibleKeys device_keys = keys;
  if (keys.lengths != nullptr) {
    lengths = in(*keys.lengths);
    device_keys.lengths = &lengths;
  }
  return device_keys;
}

}  // namespace

void HostAdapter::do_softmax_forward(const Tensor& x, const Tensor& y, const VisibleKeys& keys) {
  Tensor lengths;
  device_->softmax_forward(in(x), out(y), on_device(keys, lengths, [this](const Tensor& t) { return in(t); }));
  written();
}
void HostAdapter::do_softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  device_->softmax_backward(in(y), in(dy), out(dx), acc);
  written();
}
void HostAdapter::do_log_softmax_forward(const Tensor& x, const Tensor& y) {
  device_->log_softmax_forward(in(x), out(y));
  written();
}
void HostAdapter::do_layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                                        const Tensor& y, const Tensor& mean, const Tensor& var) {
  device_->layer_norm_forward(in(x), in(gamma), in(beta), eps, out(y), out(mean), out(var));
  written();
}
void HostAdapter::do_layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, const Tensor& mean,
                                         const Tensor& var, float eps, const Tensor& dx, const Tensor& dgamma,
                                         const Tensor& dbeta, Accumulate acc) {
  device_->layer_norm_backward(in(x), in(dy), in(gamma), in(mean), in(var), eps, out(dx), out(dgamma), out(dbeta), acc);
  written();
}
void HostAdapter::do_activation_forward(Activation kind, const Tensor& x, const Tensor& y) {
  device_->activation_forward(kind, in(x), out(y));
  written();
}
void HostAdapter::do_activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const Tensor& dx,
                                         Accumulate acc) {
  device_->activation_backward(kind, in(x), in(dy), out(dx), acc);
  written();
}
void HostAdapter::do_dropout_forward(const Tensor& x, float p, uint64_t seed, const Tensor& y, uint64_t first) {
  device_->dropout_forward(in(x), p, seed, out(y), first);
  written();
}
void HostAdapter::do_dropout_backward(const Tensor& dy, float p, uint64_t seed, const Tensor& dx, Accumulate acc,
                                      uint64_t first) {
  device_->dropout_backward(in(dy), p, seed, out(dx), acc, first);
  written();
}
void HostAdapter::do_embedding_forward(const Tensor& table, const Tensor& ids, float scale, const Tensor& y,
                                       const Tensor* row_scales) {
  const Tensor scales = row_scales ? in(*row_scales) : Tensor();
  device_->embedding_forward(in(table), in(ids), scale, out(y), row_scales ? &scales : nullptr);
  written();
}
void HostAdapter::do_embedding_backward(const Tensor& ids, const Tensor& dy, float scale, const Tensor& dtable) {
  device_->embedding_backward(in(ids), in(dy), scale, out(dtable));
  written();
}
void HostAdapter::do_add(const Tensor& a, const Tensor& b, const Tensor& c) {
  device_->add(in(a), in(b), out(c));
  written();
}
void HostAdapter::do_axpy(float alpha, const Tensor& x, const Tensor& y) {
  device_->axpy(alpha, in(x), out(y));
  written();
}
void HostAdapter::do_sum_rows(const Tensor& x, const Tensor& y, Accumulate acc) {
  device_->sum_rows(in(x), out(y), acc);
  written();
}
double HostAdapter::do_sum_squares(const Tensor& x) { return device_->sum_squares(in(x)); }
void HostAdapter::do_swap_axes_12(const Tensor& x, const Tensor& y) {
  device_->swap_axes_12(in(x), out(y));
  written();
}
void HostAdapter::do_additive_scores_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& scores) {
  device_->additive_scores_forward(in(q), in(k), in(v), out(scores));
  written();
}
void HostAdapter::do_additive_scores_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dscores,
                                              const Tensor& dq, const Tensor& dk, const Tensor& dv, Accumulate acc) {
  device_->additive_scores_backward(in(q), in(k), in(v), in(dscores), out(dq), out(dk), out(dv), acc);
  written();
}
void HostAdapter::do_write_time_step(const Tensor& step, int64_t position, const Tensor& cache) {
  device_->write_time_step(in(step), position, out(cache));
  written();
}
void HostAdapter::do_attend_one_query(const Tensor& q, const Tensor& keys, const Tensor& values, float alpha,
                                      const VisibleKeys& visible, const Tensor& probs, const Tensor& o) {
  Tensor lengths;
  device_->attend_one_query(in(q), in(keys), in(values), alpha,
                            on_device(visible, lengths, [this](const Tensor& t) { return in(t); }), out(probs), out(o));
  written();
}
void HostAdapter::do_attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const TiledAttention& a,
                                       const Tensor& o, const Tensor& logsumexp) {
  Tensor lengths;
  TiledAttention device_a = a;
  device_a.visible = on_device(a.visible, lengths, [this](const Tensor& t) { return in(t); });
  device_->attention_forward(in(q), in(k), in(v), device_a, out(o), out(logsumexp));
  written();
}
void HostAdapter::do_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                                        const Tensor& logsumexp, const Tensor& d_out, const TiledAttention& a,
                                        const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  Tensor lengths;
  TiledAttention device_a = a;
  device_a.visible = on_device(a.visible, lengths, [this](const Tensor& t) { return in(t); });
  device_->attention_backward(in(q), in(k), in(v), in(o), in(logsumexp), in(d_out), device_a, out(dq), out(dk), out(dv));
  written();
}
void HostAdapter::do_gather_rows(const Tensor& src, const Tensor& rows, const Tensor& dst) {
  device_->gather_rows(in(src), in(rows), out(dst));
  written();
}
void HostAdapter::do_gather_cache_rows(const Tensor& src, const Tensor& rows, int64_t length, const Tensor& dst) {
  device_->gather_cache_rows(in(src), in(rows), length, out(dst));
  written();
}
void HostAdapter::do_sequence_lengths(const Tensor& ids, int32_t pad_id, const Tensor& lengths) {
  device_->sequence_lengths(in(ids), pad_id, out(lengths));
  written();
}
void HostAdapter::do_adam_update(const Tensor& params, const Tensor& grads, const Tensor& m, const Tensor& v,
                                 const AdamStep& step) {
  device_->adam_update(out(params), in(grads), out(m), out(v), step);
  written();
}
LossSums HostAdapter::do_cross_entropy_forward(const Tensor& logits, const Tensor& targets,
                                               const CrossEntropyOptions& options, const Tensor& log_probs) {
  const LossSums sums = device_->cross_entropy_forward(in(logits), in(targets), options, out(log_probs));
  written();
  return sums;
}
void HostAdapter::do_cross_entropy_backward(const Tensor& log_probs, const Tensor& targets,
                                            const CrossEntropyOptions& options, float grad_scale,
                                            const Tensor& dlogits, Accumulate acc) {
  device_->cross_entropy_backward(in(log_probs), in(targets), options, grad_scale, out(dlogits), acc);
  written();
}

}  // namespace heed::test
