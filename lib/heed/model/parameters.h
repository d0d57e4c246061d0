#pragma once
// ParameterSet: every trainable tensor of a model, by name, with its gradient. Values live in
// one arena and gradients in another, so that the optimizer, the gradient norm and the model
// file each see one flat buffer. Layers declare their parameters while they are constructed
// (receiving stable Parameter pointers) and allocate() then lays the arenas out.

#include <deque>
#include <string>
#include <vector>

#include "heed/core/rng.h"
#include "heed/core/tensor.h"

namespace heed {

enum class Init : uint8_t {
  zeros,
  ones,
  xavier_uniform,  // U(±√(6 / (fan_in + fan_out))), for projections
  embedding,       // N(0, 1/√dim): with the √dim scale, embeddings start at unit variance
};

struct Parameter {
  std::string name;
  Shape shape;
  Init init = Init::zeros;
  Tensor value;  // a view into the value arena, after allocate()
  Tensor grad;   // a view into the gradient arena, after allocate()
};

class ParameterSet {
 public:
  // Declares a parameter. The pointer stays valid for the set's lifetime.
  Parameter* add(const std::string& name, const Shape& shape, Init init);
  // Lays out the arenas (each parameter 64-byte aligned) and zeroes the gradients.
  void allocate();
  void initialize(uint64_t seed);
  void zero_grads();

  const std::deque<Parameter>& all() const { return parameters_; }
  Parameter* find(const std::string& name);
  int64_t count() const;           // trainable scalars
  const Tensor& values() const { return values_; }  // the whole value arena, f32 [elements]
  const Tensor& grads() const { return grads_; }

 private:
  std::deque<Parameter> parameters_;  // a deque keeps element addresses stable as it grows
  Tensor values_;
  Tensor grads_;
};

}  // namespace heed
