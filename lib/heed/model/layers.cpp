#include "heed/model/layers.h"

#include <cmath>
#include <map>
#include <tuple>
#include <mutex>
#include <utility>
#include <vector>

#include "heed/backend/matmul_backward.h"
#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/rng.h"

namespace heed {
namespace {

// [..., cols] as a matrix [rows, cols]
Tensor as_matrix(const Tensor& t) { return t.reshape(Shape{t.shape().rows(), t.shape().cols()}); }

}  // namespace

uint64_t site_of(const std::string& name) { return fnv1a64(name); }

uint64_t Dropout::seed(const RunMode& mode) const { return mix64(mode.seed ^ site_); }

uint64_t Dropout::first_index(const RunMode& mode, int64_t numel) {
  if (mode.sequences <= 0 || mode.first_sequence == 0) return 0;
  return static_cast<uint64_t>(mode.first_sequence) * static_cast<uint64_t>(numel / mode.sequences);
}

Tensor Dropout::forward(Backend& be, const Tensor& x, const RunMode& mode) {
  active_ = mode.training && p_ > 0.0f;
  if (!active_) return x;
  seed_ = seed(mode);
  first_ = first_index(mode, x.numel());
  Tensor y = output_.view(be, x.shape());
  be.dropout_forward(x, p_, seed_, y, first_);
  return y;
}

Tensor Dropout::backward(Backend& be, const Tensor& dy) { return backward(be, dy, grad_); }

Tensor Dropout::backward(Backend& be, const Tensor& dy, Buffer& into) {
  if (!active_) return dy;
  Tensor dx = into.view(be, dy.shape());
  be.dropout_backward(dy, p_, seed_, dx, Accumulate::no, first_);
  return dx;
}

Linear::Linear(ParameterSet& params, const std::string& name, int64_t in, int64_t out)
    : weight_(params.add(name + ".weight", Shape{in, out}, Init::xavier_uniform)),
      bias_(params.add(name + ".bias", Shape{out}, Init::zeros)) {
  weight_->matmul_use = MatmulUse::weight;
}

// x and y may have any leading shape (e.g. y as [B, T, H, dh]): both are viewed as
// [rows, features] with rows = x's leading elements.
void Linear::forward(Backend& be, const Tensor& x, const Tensor& y) {
  input_ = as_matrix(x);
  const Tensor y2 = y.reshape(Shape{input_.shape()[0], out_dim()});
  if (weight_->prepared)
    be.matmul(input_, *weight_->prepared, &bias_->value, y2);
  else
    be.matmul(input_, weight_->value, y2, {.bias = &bias_->value});
}

void Linear::backward(Backend& be, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  const int64_t rows = input_.shape()[0];
  const Tensor dx2 = dx.reshape(Shape{rows, in_dim()});
  matmul_backward(be, input_, weight_->value, dy.reshape(Shape{rows, out_dim()}), {},
                  {.da = &dx2, .da_mode = acc, .db = &weight_->grad, .dbias = &bias_->grad});
}

LayerNorm::LayerNorm(ParameterSet& params, const std::string& name, int64_t dim, float epsilon)
    : gamma_(params.add(name + ".gamma", Shape{dim}, Init::ones)),
      beta_(params.add(name + ".beta", Shape{dim}, Init::zeros)),
      epsilon_(epsilon) {}

void LayerNorm::forward(Backend& be, const Tensor& x, const Tensor& y) {
  input_ = x;
  mean_ = mean_buffer_.view(be, Shape{x.shape().rows()});
  var_ = var_buffer_.view(be, Shape{x.shape().rows()});
  be.layer_norm_forward(x, gamma_->value, beta_->value, epsilon_, y, mean_, var_);
}

void LayerNorm::backward(Backend& be, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  be.layer_norm_backward(input_, dy, gamma_->value, mean_, var_, epsilon_, dx, gamma_->grad, beta_->grad, acc);
}

FeedForward::FeedForward(ParameterSet& params, const std::string& name, const ModelConfig& config,
                         FeedForwardScratch& scratch)
    : activation_(config.activation),
      in_(params, name + ".in", config.model_dim, config.ffn_dim),
      out_(params, name + ".out", config.ffn_dim, config.model_dim),
      dropout_(config.dropout, name + ".dropout"),
      scratch_(scratch) {}

void FeedForward::forward(Backend& be, const Tensor& x, const Tensor& y, const RunMode& mode) {
  const Shape hidden_shape{x.shape().rows(), in_.out_dim()};
  // Training keeps both for backward, per layer; inference keeps nothing and shares scratch.
  const Tensor hidden = (mode.training ? hidden_ : scratch_.hidden).view(be, hidden_shape);
  const Tensor activated = (mode.training ? activated_ : scratch_.activated).view(be, hidden_shape);
  in_.forward(be, x, hidden);
  be.activation_forward(activation_, hidden, activated);
  dropped_ = dropout_.forward(be, activated, mode);
  out_.forward(be, dropped_, y);
}

void FeedForward::backward(Backend& be, const Tensor& dy, const Tensor& dx, Accumulate acc) {
  const Tensor d_dropped = scratch_.d_dropped.view(be, dropped_.shape());
  out_.backward(be, dy, d_dropped, Accumulate::no);
  const Tensor d_activated = dropout_.backward(be, d_dropped, scratch_.d_activated);
  const Tensor d_hidden = scratch_.d_hidden.view(be, dropped_.shape());
  // activation_backward reads the pre-activation values, which in_ wrote into hidden_.
  be.activation_backward(activation_, hidden_.view(be, dropped_.shape()), d_activated, d_hidden, Accumulate::no);
  in_.backward(be, d_hidden, dx, acc);
}

namespace {

// Interleaved: PE(pos, 2i) = sin(pos / 10000^(2i/D)), PE(pos, 2i+1) = cos(pos / 10000^(2i/D)).
// Concatenated: PE(pos, i) = sin(pos / 10000^(2i/D)), PE(pos, D/2 + i) = cos(the same), i < D/2
// (with an odd D the sines take the extra column, as Marian's do).
Tensor compute_sinusoidal_table(int64_t positions, int64_t dim, bool concatenated) {
  Tensor table = Tensor::empty(Shape{positions, dim});
  const int64_t sines = (dim + 1) / 2;
  // Per column: its frequency's index i and whether it holds the sine (made at every model load).
  std::vector<double> wavelength(static_cast<size_t>(dim));  // 10000^(2i/D)
  std::vector<bool> sine(static_cast<size_t>(dim));
  for (int64_t c = 0; c < dim; ++c) {
    const int64_t i = concatenated ? (c < sines ? c : c - sines) : c / 2;
    wavelength[static_cast<size_t>(c)] = std::pow(10000.0, static_cast<double>(2 * i) / static_cast<double>(dim));
    sine[static_cast<size_t>(c)] = concatenated ? c < sines : c % 2 == 0;
  }
  float* values = table.f32();
  for (int64_t pos = 0; pos < positions; ++pos)
    for (int64_t c = 0; c < dim; ++c) {
      const double angle = static_cast<double>(pos) / wavelength[static_cast<size_t>(c)];
      values[pos * dim + c] = static_cast<float>(sine[static_cast<size_t>(c)] ? std::sin(angle) : std::cos(angle));
    }
  return table;
}

}  // namespace

// One table per shape and layout in the process, read-only and shared (a tensor's copies share its
// memory): the source and target embeddings of every model and of every translation worker's model
// would otherwise each compute their own.
Tensor sinusoidal_table(int64_t positions, int64_t dim, bool concatenated) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, bool>, Tensor> tables;
  const std::lock_guard<std::mutex> lock(mutex);
  auto [it, fresh] = tables.try_emplace({positions, dim, concatenated});
  if (fresh) it->second = compute_sinusoidal_table(positions, dim, concatenated);
  return it->second;
}

Embedding::Embedding(ParameterSet& params, const std::string& name, Parameter* table, const ModelConfig& config)
    : table_(table),
      scale_(config.scale_embeddings ? std::sqrt(static_cast<float>(config.model_dim)) : 1.0f),
      dropout_(config.dropout, name + ".dropout") {
  if (config.positions == PositionEncoding::learned)
    learned_positions_ = params.add(name + ".positions", Shape{config.max_positions, config.model_dim}, Init::embedding);
  else
    sinusoidal_ = sinusoidal_table(config.max_positions, config.model_dim,
                                   config.positions == PositionEncoding::sinusoidal_concat);
}

const Tensor& Embedding::sinusoidal_on(Backend& be) {
  if (be.device() == sinusoidal_.device()) return sinusoidal_;
  if (sinusoidal_on_device_.raw() == nullptr) {
    sinusoidal_on_device_ = be.allocate(sinusoidal_.shape());
    be.upload(sinusoidal_, sinusoidal_on_device_);
  }
  return sinusoidal_on_device_;
}

Tensor Embedding::forward(Backend& be, const Tensor& ids, int64_t offset, const RunMode& mode) {
  const int64_t batch = ids.shape()[0], length = ids.shape()[1], dim = table_->shape[1];
  const Tensor& positions = learned_positions_ ? learned_positions_->value : sinusoidal_on(be);
  HEED_CHECK(offset + length <= positions.shape()[0],
             "embedding: a sequence of {} pieces is longer than the model's limit of {} positions", offset + length,
             positions.shape()[0]);
  ids_ = ids.reshape(Shape{batch * length});
  offset_ = offset;
  const Tensor embedded = output_.view(be, Shape{batch, length, dim});
  if (table_->value.defined())
    be.embedding_forward(table_->value, ids_, scale_, embedded.reshape(Shape{batch * length, dim}));
  else  // int8 translation: the table's rows as int8 codes (ParameterSet::prepare)
    be.embedding_forward(table_->row_codes, ids_, scale_, embedded.reshape(Shape{batch * length, dim}), &table_->row_scales);
  const Tensor position_rows = positions.slice_rows(offset, offset + length).reshape(Shape{1, length, dim});
  be.add(embedded, position_rows, embedded);
  return dropout_.forward(be, embedded, mode);
}

void Embedding::backward(Backend& be, const Tensor& dy) {
  const Tensor d_embedded = dropout_.backward(be, dy);
  const int64_t batch = dy.shape()[0], length = dy.shape()[1], dim = dy.shape()[2];
  be.embedding_backward(ids_, d_embedded.reshape(Shape{batch * length, dim}), scale_, table_->grad);
  if (learned_positions_ != nullptr) {
    // The positions broadcast over the batch, so their gradient sums over it.
    const Tensor rows = learned_positions_->grad.slice_rows(offset_, offset_ + length).reshape(Shape{length * dim});
    be.sum_rows(d_embedded.reshape(Shape{batch, length * dim}), rows, Accumulate::yes);
  }
}

}  // namespace heed
