#pragma once
// A Hugging Face MarianMTModel folder (an OPUS-MT model as the hub serves it: config.json and
// model.safetensors) as a heed Transformer: the configuration mapped onto heed's model options,
// the weights renamed and transposed into heed's layout. What heed cannot compute as the model
// was trained is refused, naming the config.json field.

#include <memory>
#include <string>
#include <vector>

#include "heed/model/model_file.h"
#include "heed/model/transformer.h"

namespace heed {

// The ModelConfig config.json describes (ids are Marian's joint vocabulary's: </s> 0, <unk> 1,
// <pad> last, and <pad> starts the decoder, as transformers does).
ModelConfig marian_config(const std::string& config_json, const std::string& what);

// The model in `folder`, its weights on the host.
std::unique_ptr<Transformer> import_marian(const std::string& folder);

// The model in `folder` with what a heed model file carries beside it: source.spm and target.spm
// renumbered into vocab.json's ids (text/renumbered_pieces.h), so that each turns text into the
// model's ids as MarianTokenizer does, and metadata naming where it came from. transformers'
// beam search scores hypotheses its own way (BeamScoring::transformers), with α = 1.
LoadedModel import_marian_folder(const std::string& folder);

// source.spm and target.spm of `folder` renumbered so that piece i is `pieces[i]` (the model's
// joint ids), added to `extras` as the model's source and target vocabularies.
void add_renumbered_vocabularies(const std::string& folder, const std::vector<std::string>& pieces,
                                 const ModelConfig& config, ModelExtras& extras);

}  // namespace heed
