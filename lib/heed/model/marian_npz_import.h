#pragma once
// A Marian model release (an OPUS-MT download: model.npz, decoder.yml, the vocabulary's .yml,
// source.spm and target.spm) as a heed Transformer. Marian keeps its configuration inside the
// .npz (the array "special:model.yml") and its weights as [in, out] matrices named by layer
// ("encoder_l1_self_Wq"); heed's layout is the same, so the weights are renamed, not transposed.
// Marian starts the decoder from a zero vector rather than a token: a zero-embedding <pad> is
// appended to the vocabulary to start it, as transformers' conversion does. What heed cannot
// compute as Marian does is refused, naming the model.yml field.

#include <string>

#include "heed/core/yaml_map.h"
#include "heed/model/model_file.h"

namespace heed {

// The ModelConfig of a model.yml for a vocabulary of `pieces` entries (<pad> not included).
// `what` names the file in errors.
ModelConfig marian_npz_config(const YamlMap& model_yml, int64_t pieces, const std::string& what);

// The model of the release in `folder`, with its vocabularies renumbered into its ids and
// decoder.yml's length normalisation as the model's default.
LoadedModel import_marian_npz_folder(const std::string& folder);

}  // namespace heed
