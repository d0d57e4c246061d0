#include "heed/model/parameters.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "heed/core/container.h"
#include "heed/core/error.h"

namespace heed {
namespace {

constexpr int64_t kAlignFloats = static_cast<int64_t>(kTensorAlignment / sizeof(float));

int64_t aligned(int64_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

}  // namespace

Parameter* ParameterSet::add(const std::string& name, const Shape& shape, Init init) {
  HEED_CHECK(values_.raw() == nullptr,
             "parameter {} declared after allocation", name);
  for (const Parameter& p : parameters_) HEED_CHECK(p.name != name, "parameter {} declared twice", name);
  parameters_.push_back(Parameter{name, shape, init, {}, {}, MatmulUse::none, nullptr, {}, {}, {}, {}});
  return &parameters_.back();
}

int64_t ParameterSet::arena_size() const {
  int64_t total = 0;
  for (const Parameter& p : parameters_) total += aligned(p.shape.numel());
  return total;
}

void ParameterSet::lay_out(const Tensor& arena, Tensor Parameter::*view) {
  int64_t offset = 0;
  for (Parameter& p : parameters_) {
    p.*view = Tensor::view(static_cast<float*>(arena.raw()) + offset, p.shape, DType::f32, arena.device());
    offset += aligned(p.shape.numel());
  }
}

std::pair<int64_t, int64_t> ParameterSet::arena_range(const std::string& prefix) const {
  int64_t offset = 0, begin = -1, end = -1;
  for (const Parameter& p : parameters_) {
    const bool named = p.name.rfind(prefix, 0) == 0;
    if (named) {
      HEED_CHECK(begin < 0 || end == offset, "parameters named {}… are not declared one after another", prefix);
      if (begin < 0) begin = offset;
      end = offset + aligned(p.shape.numel());
    }
    offset += aligned(p.shape.numel());
  }
  return begin < 0 ? std::pair<int64_t, int64_t>{0, 0} : std::pair{begin, end};
}

void ParameterSet::allocate() {
  values_ = Tensor::zeros(Shape{arena_size()});
  lay_out(values_, &Parameter::value);
}

void ParameterSet::check_same_declarations(const ParameterSet& other) const {
  HEED_CHECK(other.values_.raw() != nullptr && other.parameters_.size() == parameters_.size(),
             "parameter sets differ: {} parameters against {}", other.parameters_.size(), parameters_.size());
  for (size_t i = 0; i < parameters_.size(); ++i)
    HEED_CHECK(other.parameters_[i].name == parameters_[i].name && other.parameters_[i].shape == parameters_[i].shape,
               "parameter {} {} does not match {} {}", parameters_[i].name, parameters_[i].shape.str(),
               other.parameters_[i].name, other.parameters_[i].shape.str());
}

void ParameterSet::share_values_of(const ParameterSet& owner) {
  check_same_declarations(owner);
  HEED_CHECK(!owner.holds_stored_codes(), "share_values_of: the owner's int8 codes are prepared (or dequantised) first");
  values_ = owner.values_;  // shares the storage: the arena lives as long as either set
  shared_ = true;
  lay_out(values_, &Parameter::value);
  for (size_t i = 0; i < parameters_.size(); ++i) {
    parameters_[i].prepared = owner.parameters_[i].prepared;
    parameters_[i].row_codes = owner.parameters_[i].row_codes;
    parameters_[i].row_scales = owner.parameters_[i].row_scales;
    if (!owner.parameters_[i].value.defined()) parameters_[i].value = Tensor();  // released
  }
  prepared_ = owner.prepared_;
}

void ParameterSet::initialize(uint64_t seed) {
  HEED_CHECK(values_.device() == Device::cpu, "parameters are initialised on the host, before place_on");
  for (Parameter& p : parameters_) {
    // Each parameter draws from its own stream, so adding a layer does not change the others.
    // FNV-1a, not std::hash (which differs between standard libraries): one seed, the same weights.
    Rng rng(mix64(seed) ^ fnv1a64(p.name));
    float* v = p.value.f32();
    const int64_t n = p.value.numel();
    switch (p.init) {
      case Init::zeros: p.value.zero(); break;
      case Init::ones: p.value.fill(1.0f); break;
      case Init::xavier_uniform: {
        const double fan_in = static_cast<double>(p.shape[0]), fan_out = static_cast<double>(p.shape[-1]);
        const float limit = static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out)));
        for (int64_t i = 0; i < n; ++i) v[i] = rng.uniform(-limit, limit);
        break;
      }
      case Init::embedding: {
        const float stddev = 1.0f / std::sqrt(static_cast<float>(p.shape[-1]));
        for (int64_t i = 0; i < n; ++i) v[i] = stddev * rng.normal();
        break;
      }
    }
  }
}

void ParameterSet::keep_int8_codes(const std::string& name, Tensor codes, Tensor steps) {
  Parameter* p = find(name);
  HEED_CHECK(p != nullptr && p->matmul_use != MatmulUse::none, "keep_int8_codes: {} is not a matmul weight", name);
  const int64_t channels = p->shape[p->matmul_use == MatmulUse::transposed_weight ? 0 : 1];
  HEED_CHECK(codes.dtype() == DType::i8 && codes.shape() == p->shape && steps.dtype() == DType::f32 &&
                 steps.shape() == Shape{channels},
             "keep_int8_codes: {} {} was handed codes {} and steps {}", name, p->shape.str(), codes.describe(), steps.describe());
  HEED_CHECK(values_.device() == Device::cpu && !prepared_, "keep_int8_codes: {} is loaded on the host, before preparation", name);
  p->stored_codes = std::move(codes);
  p->stored_steps = std::move(steps);
  p->value = Tensor();
}

bool ParameterSet::holds_stored_codes() const {
  return std::any_of(parameters_.begin(), parameters_.end(), [](const Parameter& p) { return p.stored_codes.defined(); });
}

void ParameterSet::dequantize_stored(Parameter& p) {
  int64_t offset = 0;
  for (const Parameter& q : parameters_) {
    if (&q == &p) break;
    offset += aligned(q.shape.numel());
  }
  p.value = Tensor::view(static_cast<float*>(values_.raw()) + offset, p.shape, DType::f32, values_.device());
  int8_dequantize_channels(p.stored_codes.data<int8_t>(), p.stored_steps.f32(), p.shape[0], p.shape[1],
                           p.matmul_use == MatmulUse::transposed_weight ? 0 : 1, p.value.f32());
  p.stored_codes = Tensor();
  p.stored_steps = Tensor();
}

void ParameterSet::place_on(Backend& be) {
  HEED_CHECK(values_.raw() != nullptr, "parameters are placed after allocation");
  if (values_.device() == be.device()) return;
  for (Parameter& p : parameters_)
    if (p.stored_codes.defined()) dequantize_stored(p);
  HEED_CHECK(!shared_ && grads_.raw() == nullptr,
             "only parameters of their own, without gradients, can move to another device");
  Tensor placed = be.allocate(values_.shape());
  be.upload(values_, placed);
  values_ = placed;  // the host arena is freed
  lay_out(values_, &Parameter::value);
}

void ParameterSet::download_values(Backend& be, const ParameterSet& placed) {
  check_same_declarations(placed);
  HEED_CHECK(values_.device() == Device::cpu, "download_values: this set must be on the host");
  if (placed.values_.device() == Device::cpu)
    values_.copy_from(placed.values_);
  else
    be.download(placed.values_, values_);
}

int64_t ParameterSet::prepare(Backend& be, Precision precision, Values values, int64_t* released) {
  HEED_CHECK(values_.device() == be.device(), "prepare: the parameters are on {}, the backend computes on {}",
             device_name(values_.device()), device_name(be.device()));
  HEED_CHECK(values == Values::keep || !shared_, "prepare: only the set that owns the values may release them");
  int64_t bytes = 0;
  for (Parameter& p : parameters_) {
    if (p.matmul_use == MatmulUse::none) continue;
    const bool transposed = p.matmul_use == MatmulUse::transposed_weight;
    const bool release = values == Values::release;
    // An int8 file's codes become the int8 weight as they are; any other use needs the values.
    const bool from_codes = p.stored_codes.defined() && precision == Precision::int8 && be.device() == Device::cpu;
    if (p.stored_codes.defined() && !from_codes) dequantize_stored(p);
    p.prepared = from_codes ? be.prepare_int8_weight(p.stored_codes, p.stored_steps, transposed)
                            : be.prepare_weight(p.value, transposed, precision);
    bytes += p.prepared->bytes();
    if (release && transposed && precision == Precision::int8 && be.device() == Device::cpu) {
      // The embeddings' lookups read the rows' int8 codes: the same rule as the product's (a
      // scale per row), so an int8 file's table comes back exactly as the file holds it.
      if (from_codes) {
        p.row_codes = p.stored_codes;
        p.row_scales = p.stored_steps;
      } else {
        p.row_codes = Tensor::empty(p.shape, DType::i8);
        p.row_scales = Tensor::empty(Shape{p.shape[0]});
        int8_quantize_channels(p.value.f32(), p.shape[0], p.shape[1], 0, p.row_codes.data<int8_t>(), p.row_scales.f32());
      }
    }
    if (from_codes) {
      if (!release) dequantize_stored(p);  // the values are wanted besides
      p.stored_codes = Tensor();
      p.stored_steps = Tensor();
    } else if (release && (p.matmul_use == MatmulUse::weight || p.row_codes.defined())) {
      const int64_t offset = static_cast<const std::byte*>(p.value.raw()) - static_cast<const std::byte*>(values_.raw());
      const int64_t given_back = values_.discard_pages(offset, static_cast<int64_t>(p.value.bytes()));
      if (released != nullptr) *released += given_back;
      p.value = Tensor();
    }
  }
  prepared_ = true;
  return bytes;
}

void ParameterSet::zero_grads(Backend& be) {
  HEED_CHECK(!shared_, "a model that reads another's weights cannot train");
  HEED_CHECK(!holds_stored_codes(), "a model loaded as int8 codes for translation cannot train");
  HEED_CHECK(!prepared_, "a model whose weights were prepared for translation cannot train");
  HEED_CHECK(values_.device() == be.device(), "the parameters are on {}, the backend computes on {}: place them first",
             device_name(values_.device()), device_name(be.device()));
  if (grads_.raw() == nullptr) {
    grads_ = be.allocate(values_.shape());
    lay_out(grads_, &Parameter::grad);
  }
  be.fill(grads_, 0.0);
}

Parameter* ParameterSet::find(const std::string& name) {
  for (Parameter& p : parameters_)
    if (p.name == name) return &p;
  return nullptr;
}

int64_t ParameterSet::count() const {
  int64_t n = 0;
  for (const Parameter& p : parameters_) n += p.shape.numel();
  return n;
}

}  // namespace heed
