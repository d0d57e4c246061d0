#pragma once
// Checkpoint averaging (Vaswani et al. 2017 average the last checkpoints of a run; Marian's
// --exponential-smoothing is its running form): the element-wise mean of the parameters of
// models that share one architecture and one vocabulary, usually the last few validated
// checkpoints of one training. The mean lies in a flatter region than any one of them and
// typically translates better.

#include <string>
#include <vector>

#include "heed/model/model_file.h"

namespace heed {

// The mean of `models` (at least one), accumulated in double: the average of one model is
// that model, bit for bit. Throws, naming the file, when a model's configuration or
// vocabularies differ from the first's. `names` (one per model) name them in errors and in
// the result's metadata.
LoadedModel average_models(const std::vector<LoadedModel>& models, const std::vector<std::string>& names);

}  // namespace heed
