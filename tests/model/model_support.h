#pragma once
// Tiny models and batches for the model tests.

#include <filesystem>
#include <fstream>
#include <vector>

#include "heed/model/transformer.h"
#include "heed/text/vocabulary.h"
#include "support.h"

namespace heed::test {

// 2 + 2 layers of width 8: small enough for finite differences over every parameter tensor.
inline ModelConfig tiny_config() {
  ModelConfig c;
  c.source_vocab = 13;
  c.target_vocab = 13;
  c.model_dim = 8;
  c.heads = 2;
  c.ffn_dim = 12;
  c.encoder_layers = 2;
  c.decoder_layers = 2;
  c.max_positions = 16;
  c.dropout = 0.1f;
  c.attention_dropout = 0.1f;
  c.activation = Activation::gelu;  // smooth: no kink inside a finite-difference stencil
  return c;
}

inline Tensor id_matrix(const std::vector<std::vector<int32_t>>& rows) {
  const int64_t b = static_cast<int64_t>(rows.size()), t = static_cast<int64_t>(rows[0].size());
  Tensor m = Tensor::empty(Shape{b, t}, DType::i32);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < t; ++j) m.data<int32_t>()[i * t + j] = rows[i][j];
  return m;
}

// Two sentence pairs, the second padded (pad 0, bos 2, eos 3).
inline Batch tiny_batch() {
  Batch batch;
  batch.source = id_matrix({{5, 6, 7, 8, 9}, {10, 11, 12, 0, 0}});
  batch.target_in = id_matrix({{2, 4, 5, 6}, {2, 7, 8, 0}});
  batch.target_out = id_matrix({{4, 5, 6, 3}, {7, 8, 3, 0}});
  return batch;
}

// A real SentencePiece model trained on a small synthetic corpus.
inline const Vocabulary& test_vocabulary() {
  static const Vocabulary vocabulary = [] {
    TempDir dir;
    const std::string corpus = dir.file("corpus.txt");
    std::ofstream out(corpus);
    const char* words[] = {"the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "house", "red", "blue"};
    Rng rng(1);
    for (int line = 0; line < 300; ++line) {
      for (int w = 0; w < 6; ++w) out << (w ? " " : "") << words[rng.next_u64() % 12];
      out << "\n";
    }
    out.close();
    // "identity" leaves out NFKC's 240 KB table, keeping the test files small.
    return Vocabulary::train({.inputs = {corpus}, .size = 40, .hard_size_limit = false, .normalization = "identity"});
  }();
  return vocabulary;
}

}  // namespace heed::test
