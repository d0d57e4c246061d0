#pragma once
// ParameterSet: every trainable tensor of a model, by name, with its gradient. Values live in
// one arena and gradients in another, so that the optimizer, the gradient norm and the model
// file each see one flat buffer. Layers declare their parameters while they are constructed
// (receiving stable Parameter pointers) and allocate() then lays the arenas out.
//
// The value arena can be shared: a set declared like another may read that one's values
// (share_values_of) instead of holding its own, which is how several translation workers read
// one copy of the weights. The gradient arena exists only once something trains (zero_grads).
//
// Values are initialised, loaded and saved on the host; place_on() then moves them to the
// device of the backend that runs the model (on a CPU backend nothing moves), and gradients are
// laid out on that device.

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "heed/backend/backend.h"
#include "heed/core/rng.h"
#include "heed/core/tensor.h"

namespace heed {

enum class Init : uint8_t {
  zeros,
  ones,
  xavier_uniform,  // U(±√(6 / (fan_in + fan_out))), for projections
  embedding,       // N(0, 1/√dim): with the √dim scale, embeddings start at unit variance
};

// How matmuls read a parameter: as a weight W (x · W), as a transposed one (x · Wᵀ: a tied output
// table [V, D]), or not at all. ParameterSet::prepare prepares the weights.
enum class MatmulUse : uint8_t { none, weight, transposed_weight };

struct Parameter {
  std::string name;
  Shape shape;
  Init init = Init::zeros;
  Tensor value;  // a view into the value arena, after allocate()
  Tensor grad;   // a view into the gradient arena, after the first zero_grads()
  MatmulUse matmul_use = MatmulUse::none;
  // After ParameterSet::prepare (translation only): the value as the backend's matmul reads it
  // fastest, in the precision asked for. Frozen: a model with prepared weights cannot train.
  std::shared_ptr<const PreparedWeight> prepared;
  // After ParameterSet::prepare for int8 translation with the values given back: a tied table's
  // rows as embedding lookups read them, int8 codes [V, D] and one scale per row, the codes its
  // int8 product reads (the f32 table, the model's largest matrix, is given back).
  Tensor row_codes, row_scales;
  // Loaded from an int8 file for translation (Int8Tensors::as_codes in model_file.h): the file's
  // codes and steps (int8_storage.h), their channels as matmul_use reads them, held instead of the
  // f32 values (`value` stays undefined until something needs them). prepare() makes the int8
  // weight (and a tied table's row_codes) from them directly: the model is never held in f32.
  Tensor stored_codes, stored_steps;
};

class ParameterSet {
 public:
  // Declares a parameter. The pointer stays valid for the set's lifetime.
  Parameter* add(const std::string& name, const Shape& shape, Init init);
  // Lays out the value arena (each parameter 64-byte aligned), zeroed.
  void allocate();
  // Instead of allocate(): reads the values of `owner`, a set with the same declarations, whose
  // arena stays alive as long as this set does. Such a set cannot train.
  void share_values_of(const ParameterSet& owner);
  void initialize(uint64_t seed);  // on the host, before place_on
  // Instead of loading the named parameter's values: the codes and steps of an int8 file that
  // stand for them, in the layout described at Parameter::stored_codes (on the host, before
  // place_on). The values are computed from them only where they are read as f32.
  void keep_int8_codes(const std::string& name, Tensor codes, Tensor steps);
  // Moves the values to be's device (before any gradient exists; sets sharing them must be made
  // after this).
  void place_on(Backend& be);
  // Copies the values of `placed`, a set with the same declarations that may live on a device,
  // into this set's host arena (to save them).
  void download_values(Backend& be, const ParameterSet& placed);
  // Prepares every matmul weight for be's products at `precision` (after place_on; sets that
  // share these values made afterwards share the prepared weights too); int8 weights from the
  // codes kept by keep_int8_codes where the backend computes on the host. Returns the bytes the
  // prepared copies hold. With `values` release (translation), each weight that only prepared
  // products read gives its f32 values back to the system as soon as its prepared copy exists,
  // so that the model is never held twice (its `value` becomes undefined; a tied output table,
  // which the embeddings read, keeps its values, or at int8 on the host its rows' int8 codes in
  // row_codes; `released`, when given, adds the bytes given back). Such a set cannot be saved.
  enum class Values : bool { keep, release };
  int64_t prepare(Backend& be, Precision precision, Values values = Values::keep, int64_t* released = nullptr);
  bool prepared() const { return prepared_; }
  // Zeroes the gradients, laying their arena out on be's device the first time.
  void zero_grads(Backend& be);
  bool has_grads() const { return grads_.raw() != nullptr; }

  const std::deque<Parameter>& all() const { return parameters_; }
  Parameter* find(const std::string& name);
  // The elements [begin, end) of the arenas that the parameters named `prefix`… occupy (they must
  // have been declared one after another); {0, 0} when none is.
  std::pair<int64_t, int64_t> arena_range(const std::string& prefix) const;
  int64_t count() const;           // trainable scalars
  const Tensor& values() const { return values_; }  // the whole value arena, f32 [elements]
  const Tensor& grads() const { return grads_; }

 private:
  int64_t arena_size() const;  // floats, each parameter aligned
  void lay_out(const Tensor& arena, Tensor Parameter::*view);  // points each parameter's view into arena
  void check_same_declarations(const ParameterSet& other) const;
  bool holds_stored_codes() const;
  // p's values from its stored codes, into its place in the arena (the codes are dropped).
  void dequantize_stored(Parameter& p);

  std::deque<Parameter> parameters_;  // a deque keeps element addresses stable as it grows
  Tensor values_;
  Tensor grads_;
  bool shared_ = false;  // values_ belongs to another set too
  bool prepared_ = false;
};

}  // namespace heed
