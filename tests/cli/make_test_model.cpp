// Writes a small, randomly initialised heed model with a real SentencePiece vocabulary (trained
// on the multi30k-200 slice in data/) to argv[1], for the CLI tests of `heed info` and
// `heed translate`, and seeds for the loader's fuzzer.
// Usage: make_test_model OUTPUT.heed DATA_DIR [f32|int8]  (how the weights are stored; f32 by default)

#include <cstdio>
#include <string>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/model/model_file.h"
#include "heed/text/vocabulary.h"

int main(int argc, char** argv) {
  const std::string stored = argc == 4 ? argv[3] : "f32";
  if ((argc != 3 && argc != 4) || (stored != "f32" && stored != "int8")) {
    std::fprintf(stderr, "usage: %s OUTPUT.heed DATA_DIR [f32|int8]\n", argv[0]);
    return 2;
  }
  try {
    const std::string data = std::string(argv[2]) + "/multi30k-200/";
    const heed::Vocabulary vocabulary = heed::Vocabulary::train(
        {.inputs = {data + "train.en", data + "train.de"}, .size = 300, .hard_size_limit = false, .normalization = "identity"});
    heed::ModelConfig config;
    config.source_vocab = config.target_vocab = vocabulary.size();
    config.model_dim = 16;
    config.heads = 2;
    config.ffn_dim = 32;
    config.encoder_layers = config.decoder_layers = 1;
    config.max_positions = 64;
    heed::Transformer model(config);
    model.parameters().initialize(1);
    heed::save_model(argv[1], model, {.vocabularies = {{"joint", vocabulary.serialized()}}, .metadata = "made-by = make_test_model\n"},
                     stored == "int8" ? heed::StoredPrecision::int8 : heed::StoredPrecision::f32);
  } catch (const heed::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
