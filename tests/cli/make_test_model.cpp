// Writes a small, randomly initialised heed model to argv[1], for the CLI tests (heed info)
// until `heed train` can make one.

#include <cstdio>

#include "heed/core/error.h"
#include "heed/model/model_file.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.heed\n", argv[0]);
    return 2;
  }
  heed::ModelConfig config;
  config.source_vocab = config.target_vocab = 100;
  config.model_dim = 16;
  config.heads = 2;
  config.ffn_dim = 32;
  config.encoder_layers = config.decoder_layers = 1;
  config.max_positions = 64;
  heed::Transformer model(config);
  model.parameters().initialize(1);
  try {
    heed::save_model(argv[1], model, {.vocabularies = {}, .metadata = "made-by = make_test_model\n"});
  } catch (const heed::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
