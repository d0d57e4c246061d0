#pragma once
// Temporary directories, small corpora and vocabularies for the training tests.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "heed/core/file_io.h"
#include "heed/core/rng.h"
#include "heed/text/vocabulary.h"
#include "heed/train/trainer.h"
#include "support.h"

namespace heed::test {

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Writes a vocabulary trained on the files to `model_path` and returns its size.
inline int64_t train_vocabulary(const std::vector<std::string>& inputs, int64_t size, const std::string& model_path) {
  const Vocabulary v = Vocabulary::train({.inputs = inputs, .size = size, .hard_size_limit = false, .normalization = "identity"});
  write_file_atomically(model_path, v.serialized());
  return v.size();
}

// The multi30k-200 slice shipped in data/ (HEED_DATA_DIR is set by CMake).
inline std::string slice_file(const std::string& name) { return std::string(HEED_DATA_DIR) + "/multi30k-200/" + name; }

// A small Transformer for tests: quick, but able to learn.
inline ModelConfig small_model() {
  ModelConfig m;
  m.model_dim = 64;
  m.heads = 4;
  m.ffn_dim = 128;
  m.encoder_layers = 2;
  m.decoder_layers = 2;
  m.max_positions = 128;
  m.dropout = 0.1f;
  m.attention_dropout = 0.0f;
  return m;
}

}  // namespace heed::test
