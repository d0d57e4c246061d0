#include "heed/text/vocabulary.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "heed/core/error.h"
#include "heed/core/file_io.h"
#include "heed/core/gzip.h"

namespace heed {

namespace {

// The lines of the input files, one file in memory at a time, each uncompressed if gzipped:
// SentencePiece reads them through this rather than opening the files itself, which it could not
// do for a .gz corpus.
class InputLines final : public sentencepiece::SentenceIterator {
 public:
  explicit InputLines(const std::vector<std::string>& paths) : paths_(paths) { Next(); }
  bool done() const override { return done_; }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }
  void Next() override {
    while (position_ >= contents_.size()) {
      if (next_path_ == paths_.size()) {
        done_ = true;
        return;
      }
      const std::string& path = paths_[next_path_++];
      contents_ = text_of(read_file(path), path);
      position_ = 0;
    }
    size_t end = contents_.find('\n', position_);
    if (end == std::string::npos) end = contents_.size();
    line_.assign(contents_, position_, end - position_);
    position_ = end + 1;
  }

 private:
  const std::vector<std::string>& paths_;
  size_t next_path_ = 0;
  std::string contents_;
  size_t position_ = 0;
  std::string line_;
  bool done_ = false;
};

// SentencePiece reports a failed check as "./src/trainer_interface.cc(428) [!sentences_.empty()] ...":
// its source location and the condition, meaningless to a user. Say what it means instead.
std::string readable(const sentencepiece::util::Status& status) {
  std::string message(status.message());
  const size_t bracket = message.find(") [");
  if (message.find(".cc(") != std::string::npos && bracket != std::string::npos) {
    const size_t close = message.find(']', bracket);
    const std::string condition = message.substr(bracket + 3, close == std::string::npos ? std::string::npos : close - bracket - 3);
    if (condition == "!sentences_.empty()")
      return "no sentence to learn from (the files are empty, or every line is longer than --max-sentence-length bytes)";
    if (condition.find("ParseFromArray") != std::string::npos) return "its bytes are not SentencePiece's model format";
    if (condition.find("required_chars_") != std::string::npos) {
      // "... Vocabulary size is smaller than required_chars. 50 vs 54. ..."
      int size = 0, needed = 0;
      const size_t vs = message.find(" vs ");
      const size_t number = message.find_last_of(' ', vs == std::string::npos ? 0 : vs - 1);
      if (vs != std::string::npos && number != std::string::npos &&
          std::sscanf(message.c_str() + number, "%d vs %d", &size, &needed) == 2)
        return fmt::format("--size {} is too small: the text has {} characters that each need a piece (those "
                           "--character-coverage keeps, and the special pieces); give at least {}, or a lower "
                           "--character-coverage", size, needed, needed);
    }
    const std::string rest = close == std::string::npos ? "" : message.substr(close + 1);
    return "SentencePiece's check '" + condition + "' failed" + (rest.find_first_not_of(' ') == std::string::npos ? "" : ":" + rest);
  }
  return message;
}

// Protobuf's wire format, just enough to walk a ModelProto: a varint at `at`, or false.
bool read_varint(std::string_view bytes, size_t& at, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes[at++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Calls `field(number, payload)` for each length-delimited field of a message; false when the
// bytes are not a well-formed message (SentencePiece's own parser then reports it).
template <typename Field>
bool for_each_bytes_field(std::string_view message, Field field) {
  size_t at = 0;
  while (at < message.size()) {
    uint64_t key = 0, length = 0, skipped = 0;
    if (!read_varint(message, at, key)) return false;
    switch (key & 7) {
      case 0: if (!read_varint(message, at, skipped)) return false; break;
      case 1: at += 8; break;
      case 5: at += 4; break;
      case 2:
        if (!read_varint(message, at, length) || length > message.size() - std::min(at, message.size())) return false;
        field(key >> 3, message.substr(at, length));
        at += length;
        break;
      default: return false;
    }
  }
  return at == message.size();
}

// SentencePiece builds a trie of the pieces, and its trie builder throws through a noexcept
// frame (std::terminate, not an error) on an empty piece or one with a NUL byte: a damaged or
// hostile model file must be refused before it gets there. ModelProto field 1 holds the pieces,
// each a message whose field 1 is the piece's text.
void check_pieces(std::string_view serialized, const std::string& what) {
  int64_t index = 0;
  for_each_bytes_field(serialized, [&](uint64_t number, std::string_view piece_message) {
    if (number != 1) return;
    bool has_text = false;
    for_each_bytes_field(piece_message, [&](uint64_t inner, std::string_view text) {
      if (inner != 1) return;
      has_text = true;
      if (text.empty() || text.find('\0') != std::string_view::npos)
        fail("{} is not a valid SentencePiece model: piece {} is empty or holds a NUL byte", what, index);
    });
    HEED_CHECK(has_text, "{} is not a valid SentencePiece model: piece {} has no text", what, index);
    ++index;
  });
}

}  // namespace

struct Vocabulary::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

Vocabulary::Vocabulary(std::unique_ptr<Impl> impl, std::string serialized)
    : impl_(std::move(impl)), serialized_(std::move(serialized)) {}
Vocabulary::Vocabulary(Vocabulary&&) noexcept = default;
Vocabulary& Vocabulary::operator=(Vocabulary&&) noexcept = default;
Vocabulary::~Vocabulary() = default;

Vocabulary Vocabulary::from_serialized(std::string serialized, const std::string& what) {
  check_pieces(serialized, what);
  auto impl = std::make_unique<Impl>();
  const auto status = impl->processor.LoadFromSerializedProto(serialized);
  HEED_CHECK(status.ok(), "{} is not a valid SentencePiece model: {}", what, readable(status));
  return Vocabulary(std::move(impl), std::move(serialized));
}

Vocabulary Vocabulary::train(const VocabularyTraining& options) {
  HEED_CHECK(!options.inputs.empty(), "vocabulary training needs at least one input file");
  HEED_CHECK(options.size > 4, "vocabulary size must be larger than the 4 special pieces, got {}", options.size);
  std::string inputs;
  for (const std::string& input : options.inputs) inputs += (inputs.empty() ? "" : ", ") + input;
  const std::unordered_map<std::string, std::string> args = {
      {"vocab_size", std::to_string(options.size)},
      {"model_type", options.type == VocabularyType::bpe ? "bpe" : "unigram"},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"input_sentence_size", std::to_string(options.input_sentence_size)},
      {"shuffle_input_sentence", "true"},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"hard_vocab_limit", options.hard_size_limit ? "true" : "false"},
      {"normalization_rule_name", options.normalization},
      {"pad_id", std::to_string(kPadId)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", std::to_string(kBosId)},
      {"eos_id", std::to_string(kEosId)},
      {"minloglevel", "2"},  // SentencePiece's own logging: errors only (heed logs progress itself)
  };
  std::string serialized;
  InputLines lines(options.inputs);
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &lines, &serialized);
  HEED_CHECK(status.ok(), "cannot train a vocabulary on {}: {}", inputs, readable(status));
  return from_serialized(std::move(serialized), "the vocabulary just trained");
}

int64_t Vocabulary::size() const { return impl_->processor.GetPieceSize(); }

std::vector<int32_t> Vocabulary::encode(std::string_view text) const {
  // SentencePiece's lattice takes some hundred bytes for each byte of its input: a line of
  // megabytes would take gigabytes. Longer text goes in pieces cut at a space, which gives the
  // same pieces as the whole (no piece spans a space; the space starts the next word's first
  // piece either way); a run without a space that long is cut between characters, and reads as
  // two words there.
  constexpr size_t kMostBytesAtOnce = 16384;
  std::vector<int32_t> out;
  std::vector<int> ids;
  while (!text.empty()) {
    size_t cut = text.size();
    if (cut > kMostBytesAtOnce) {
      cut = text.find_last_of(" \t", kMostBytesAtOnce);
      if (cut == std::string_view::npos || cut == 0) {
        cut = kMostBytesAtOnce;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
      }
    }
    const std::string_view chunk = text.substr(0, cut);
    const auto status = impl_->processor.Encode(absl::string_view(chunk.data(), chunk.size()), &ids);
    HEED_CHECK(status.ok(), "SentencePiece could not encode a line: {}", status.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
    text.remove_prefix(cut);
  }
  return out;
}

std::string Vocabulary::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  const auto status = impl_->processor.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
  HEED_CHECK(status.ok(), "SentencePiece could not decode pieces: {}", status.ToString());
  return text;
}

std::string Vocabulary::piece(int32_t id) const { return impl_->processor.IdToPiece(id); }

}  // namespace heed
