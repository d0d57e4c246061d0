#include "heed/text/renumbered_pieces.h"

#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "heed/core/error.h"

namespace heed {
namespace {

// Protobuf's wire format: a field is a varint tag (number << 3 | wire type) and its value.
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

// ModelProto, TrainerSpec and SentencePiece field numbers (sentencepiece_model.proto).
constexpr uint32_t kModelPieces = 1, kModelTrainerSpec = 2;
constexpr uint32_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr uint32_t kSpecVocabSize = 4, kSpecUnkId = 40, kSpecBosId = 41, kSpecEosId = 42, kSpecPadId = 43;
constexpr uint32_t kSpecUnkPiece = 45, kSpecEosPiece = 47, kSpecPadPiece = 48;  // 46: the <s> piece
enum PieceType : uint64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct Field {
  uint32_t number = 0;
  uint32_t type = 0;
  uint64_t value = 0;        // varint and fixed values
  std::string_view bytes;    // a length-delimited value
  std::string_view whole;    // the field as it was written, tag included
};

class Reader {
 public:
  Reader(std::string_view data, const std::string& what) : data_(data), what_(what) {}
  bool done() const { return at_ >= data_.size(); }

  Field next() {
    Field f;
    const size_t start = at_;
    const uint64_t tag = varint();
    f.number = static_cast<uint32_t>(tag >> 3);
    f.type = static_cast<uint32_t>(tag & 7);
    switch (f.type) {
      case kVarint: f.value = varint(); break;
      case kFixed64: f.value = fixed(8); break;
      case kFixed32: f.value = fixed(4); break;
      case kBytes: {
        const uint64_t length = varint();
        HEED_CHECK(length <= data_.size() - at_, "{}: not a SentencePiece model (a field runs past its end)", what_);
        f.bytes = data_.substr(at_, length);
        at_ += length;
        break;
      }
      default: fail("{}: not a SentencePiece model (wire type {})", what_, f.type);
    }
    f.whole = data_.substr(start, at_ - start);
    return f;
  }

 private:
  uint64_t varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      HEED_CHECK(at_ < data_.size(), "{}: not a SentencePiece model (cut short)", what_);
      const auto byte = static_cast<uint8_t>(data_[at_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail("{}: not a SentencePiece model (a number too long)", what_);
  }
  uint64_t fixed(size_t bytes) {
    HEED_CHECK(bytes <= data_.size() - at_, "{}: not a SentencePiece model (cut short)", what_);
    uint64_t value = 0;
    std::memcpy(&value, data_.data() + at_, bytes);  // little-endian, as the host
    at_ += bytes;
    return value;
  }

  std::string_view data_;
  const std::string& what_;
  size_t at_ = 0;
};

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}
void put_tag(std::string& out, uint32_t number, uint32_t type) { put_varint(out, uint64_t{number} << 3 | type); }
void put_int(std::string& out, uint32_t number, int64_t value) {  // int32 fields: negative ones as 64-bit
  put_tag(out, number, kVarint);
  put_varint(out, static_cast<uint64_t>(value));
}
void put_bytes(std::string& out, uint32_t number, std::string_view bytes) {
  put_tag(out, number, kBytes);
  put_varint(out, bytes.size());
  out += bytes;
}
void put_float(std::string& out, uint32_t number, float value) {
  put_tag(out, number, kFixed32);
  char raw[4];
  std::memcpy(raw, &value, 4);
  out.append(raw, 4);
}

struct Piece {
  float score = 0.0f;
  uint64_t type = kNormal;
};

}  // namespace

std::string renumber_pieces(const std::string& serialized, const std::vector<std::string>& pieces,
                            const RenumberedIds& ids, const std::string& what) {
  std::unordered_map<std::string, Piece> own;  // the model's pieces, by text
  std::string trainer_spec, rest;
  Reader model(serialized, what);
  while (!model.done()) {
    const Field f = model.next();
    if (f.number == kModelPieces && f.type == kBytes) {
      Reader reader(f.bytes, what);
      std::string text;
      Piece piece;
      while (!reader.done()) {
        const Field p = reader.next();
        if (p.number == kPieceText) text = std::string(p.bytes);
        if (p.number == kPieceScore) {
          const auto bits = static_cast<uint32_t>(p.value);
          std::memcpy(&piece.score, &bits, 4);
        }
        if (p.number == kPieceType) piece.type = p.value;
      }
      own[text] = piece;
    } else if (f.number == kModelTrainerSpec && f.type == kBytes) {
      trainer_spec = std::string(f.bytes);
    } else {
      rest += f.whole;
    }
  }
  HEED_CHECK(!own.empty(), "{}: not a SentencePiece model (no pieces)", what);

  // Every piece that cuts text must keep its id; the special pieces are the list's own.
  std::unordered_map<std::string, int64_t> position;
  for (size_t i = 0; i < pieces.size(); ++i) position.emplace(pieces[i], static_cast<int64_t>(i));
  for (const auto& [text, piece] : own) {
    if (piece.type == kControl || piece.type == kUnknown || piece.type == kUnused) continue;
    HEED_CHECK(position.count(text), "{}: its piece '{}' is not in the model's vocabulary (vocab.json): heed would cut "
               "text differently from the model's tokenizer", what, text);
  }

  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto id = static_cast<int>(i);
    std::string entry;
    put_bytes(entry, kPieceText, pieces[i]);
    const auto found = own.find(pieces[i]);
    const bool cuts = found != own.end() && found->second.type != kControl && found->second.type != kUnknown &&
                      found->second.type != kUnused;
    put_float(entry, kPieceScore, cuts ? found->second.score : 0.0f);
    const uint64_t type = id == ids.unk                    ? kUnknown
                          : id == ids.eos || id == ids.pad ? kControl
                          : cuts                           ? found->second.type
                                                           : kUnused;
    if (type != kNormal) {
      put_tag(entry, kPieceType, kVarint);
      put_varint(entry, type);
    }
    put_bytes(out, kModelPieces, entry);
  }
  // The trainer spec, with the new size and special ids (and no <s>: Marian has none).
  std::string spec;
  Reader reader(trainer_spec, what);
  while (!reader.done()) {
    const Field f = reader.next();
    if (f.number == kSpecVocabSize || (f.number >= kSpecUnkId && f.number <= kSpecPadId) ||
        (f.number >= kSpecUnkPiece && f.number <= kSpecPadPiece))
      continue;
    spec += f.whole;
  }
  put_int(spec, kSpecVocabSize, static_cast<int64_t>(pieces.size()));
  put_int(spec, kSpecUnkId, ids.unk);
  put_int(spec, kSpecBosId, -1);
  put_int(spec, kSpecEosId, ids.eos);
  put_int(spec, kSpecPadId, ids.pad);
  put_bytes(spec, kSpecUnkPiece, pieces.at(static_cast<size_t>(ids.unk)));
  put_bytes(spec, kSpecEosPiece, pieces.at(static_cast<size_t>(ids.eos)));
  if (ids.pad >= 0) put_bytes(spec, kSpecPadPiece, pieces.at(static_cast<size_t>(ids.pad)));
  put_bytes(out, kModelTrainerSpec, spec);
  return out + rest;
}

}  // namespace heed
