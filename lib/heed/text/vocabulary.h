#pragma once
// Vocabulary: a SentencePiece model (Kudo & Richardson 2018), trained or loaded from the bytes
// a model file embeds. SentencePiece's headers stay inside vocabulary.cpp.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace heed {

// heed numbers its special pieces the same way in every vocabulary it trains.
inline constexpr int32_t kPadId = 0;
inline constexpr int32_t kUnkId = 1;
inline constexpr int32_t kBosId = 2;
inline constexpr int32_t kEosId = 3;

enum class VocabularyType : uint8_t { unigram, bpe };

struct VocabularyTraining {
  std::vector<std::string> inputs;      // text files, one sentence a line (plain or gzipped)
  int64_t size = 8000;
  VocabularyType type = VocabularyType::unigram;
  float character_coverage = 1.0f;      // keep every character: no <unk> for rare letters
  int64_t input_sentence_size = 0;      // sample this many sentences (0: all)
  int64_t max_sentence_length = 4192;   // bytes; longer lines are skipped by SentencePiece
  bool hard_size_limit = true;          // false: a smaller vocabulary is fine if the data is small
  std::string normalization = "nmt_nfkc";  // SentencePiece's rule name; "identity" keeps text as is
};

class Vocabulary {
 public:
  // Parses a serialized SentencePiece model; `what` names it in errors.
  static Vocabulary from_serialized(std::string serialized, const std::string& what);
  // Trains a new model on the inputs.
  static Vocabulary train(const VocabularyTraining& options);

  Vocabulary(Vocabulary&&) noexcept;
  Vocabulary& operator=(Vocabulary&&) noexcept;
  ~Vocabulary();

  int64_t size() const;
  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string piece(int32_t id) const;
  const std::string& serialized() const { return serialized_; }

 private:
  struct Impl;
  explicit Vocabulary(std::unique_ptr<Impl> impl, std::string serialized);
  std::unique_ptr<Impl> impl_;
  std::string serialized_;
};

}  // namespace heed
