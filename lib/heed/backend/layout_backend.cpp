#include "heed/backend/layout_backend.h"

namespace heed {

// Memory comes from the wrapped backend (BackendDecorator), as it would for a real run, and what
// is put into it from outside the ops is put there (a table uploaded once to a device stays
// uploaded).
void LayoutBackend::do_fill(const Tensor& t, double value) { inner_.fill(t, value); }
void LayoutBackend::do_copy(const Tensor& src, const Tensor& dst) { inner_.copy(src, dst); }
void LayoutBackend::do_upload(const Tensor& host, const Tensor& dst) { inner_.upload(host, dst); }
void LayoutBackend::do_download(const Tensor& src, const Tensor& host) { inner_.download(src, host); }

// The ops that take scratch of the wrapped backend's own ask for it; they compute nothing.
void LayoutBackend::do_matmul_prepared(const Tensor& x, const PreparedWeight& w, const Tensor*, const Tensor&) {
  inner_.reserve_matmul_scratch(x, w);
}
void LayoutBackend::do_attention_forward(const Tensor& q, const Tensor& k, const Tensor&, const TiledAttention&,
                                         const Tensor&, const Tensor&) {
  inner_.reserve_attention_scratch(q, k);
}

// Everything else writes or reads values, which a layout pass has none of.
void LayoutBackend::do_matmul(const Tensor&, const Tensor&, const Tensor&, const MatmulOptions&) {}
void LayoutBackend::do_softmax_forward(const Tensor&, const Tensor&, const VisibleKeys&) {}
void LayoutBackend::do_softmax_backward(const Tensor&, const Tensor&, const Tensor&, Accumulate) {}
void LayoutBackend::do_log_softmax_forward(const Tensor&, const Tensor&) {}
void LayoutBackend::do_layer_norm_forward(const Tensor&, const Tensor&, const Tensor&, float, const Tensor&, const Tensor&,
                                          const Tensor&) {}
void LayoutBackend::do_layer_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, float,
                                           const Tensor&, const Tensor&, const Tensor&, Accumulate) {}
void LayoutBackend::do_activation_forward(Activation, const Tensor&, const Tensor&) {}
void LayoutBackend::do_activation_backward(Activation, const Tensor&, const Tensor&, const Tensor&, Accumulate) {}
void LayoutBackend::do_dropout_forward(const Tensor&, float, uint64_t, const Tensor&, uint64_t) {}
void LayoutBackend::do_dropout_backward(const Tensor&, float, uint64_t, const Tensor&, Accumulate, uint64_t) {}
void LayoutBackend::do_embedding_forward(const Tensor&, const Tensor&, float, const Tensor&) {}
void LayoutBackend::do_embedding_backward(const Tensor&, const Tensor&, float, const Tensor&) {}
void LayoutBackend::do_add(const Tensor&, const Tensor&, const Tensor&) {}
void LayoutBackend::do_axpy(float, const Tensor&, const Tensor&) {}
void LayoutBackend::do_sum_rows(const Tensor&, const Tensor&, Accumulate) {}
double LayoutBackend::do_sum_squares(const Tensor&) { return 0.0; }
void LayoutBackend::do_swap_axes_12(const Tensor&, const Tensor&) {}
void LayoutBackend::do_additive_scores_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {}
void LayoutBackend::do_additive_scores_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                                const Tensor&, const Tensor&, Accumulate) {}
void LayoutBackend::do_write_time_step(const Tensor&, int64_t, const Tensor&) {}
void LayoutBackend::do_attend_one_query(const Tensor&, const Tensor&, const Tensor&, float, const VisibleKeys&, const Tensor&,
                                        const Tensor&) {}
void LayoutBackend::do_attention_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                          const Tensor&, const TiledAttention&, const Tensor&, const Tensor&, const Tensor&) {}
void LayoutBackend::do_gather_rows(const Tensor&, const Tensor&, const Tensor&) {}
void LayoutBackend::do_gather_cache_rows(const Tensor&, const Tensor&, int64_t, const Tensor&) {}
void LayoutBackend::do_sequence_lengths(const Tensor&, int32_t, const Tensor&) {}
void LayoutBackend::do_adam_update(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const AdamStep&) {}
LossSums LayoutBackend::do_cross_entropy_forward(const Tensor&, const Tensor&, const CrossEntropyOptions&, const Tensor&) {
  return {};
}
void LayoutBackend::do_cross_entropy_backward(const Tensor&, const Tensor&, const CrossEntropyOptions&, float, const Tensor&,
                                              Accumulate) {}

}  // namespace heed
