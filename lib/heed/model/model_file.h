#pragma once
// The model file: one file holds everything needed to translate.
//
//   offset 0   "HEEDMODL"                     magic (8 bytes)
//          8   u32 format version              1, or 2 for a file with i8 tensors; newer files are refused
//         12   u32 flags                       0
//         16   u64 file size                   truncation is detected before anything is parsed
//         24   config      u32 length + text   ModelConfig::to_text()
//              metadata    u32 length + text   "key = value" lines: how the model was made
//              vocabularies u32 count, each: u32 name length + name, u64 length + SentencePiece bytes
//              tensors      u32 count, each: u32 name length + name, u8 dtype (f32, f16 or i8), u8 rank,
//                                  i64 dims[rank], [i8: u8 channel axis], u64 byte length + data,
//                                  [i8: u64 byte length + f32 scales, one per channel] (int8_storage.h)
//   size − 16  u64 checksum                    FNV-1a 64 of every byte before it
//   size − 8   "HEEDEND\0"
//
// All integers little-endian. Loading checks magic, version, size, end marker and checksum in
// that order, each with its own message, then parses with bounds checks, then matches every
// tensor to the parameter the config declares.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heed/model/transformer.h"
#include "heed/text/vocabulary.h"

namespace heed {

inline constexpr uint32_t kModelFormatVersion = 2;  // the newest this heed reads

struct NamedBlob {
  std::string name;   // "joint", or "source" and "target"
  std::string bytes;  // a serialized SentencePiece model
  // `bytes` loaded, when parse_model has checked it: vocabularies_of takes it rather than
  // building SentencePiece's tables a second time (a tenth of a one-line translation).
  std::shared_ptr<Vocabulary> loaded = nullptr;
};

// What a model file carries besides the config and the parameters.
struct ModelExtras {
  std::vector<NamedBlob> vocabularies;
  std::string metadata;  // "key = value" lines
};

// How parameters are stored. f16 halves the file (a distribution format); loading converts
// back to f32, so a model computes the same way whichever it was stored in, up to f16's
// rounding of each weight (relative error ≤ 2⁻¹¹). int8 quarters the matmul weights (codes with
// a scale per output channel, the rest f16): made for int8 translation, whose prepared codes it
// reproduces exactly; in f32 it computes with the dequantised weights.
enum class StoredPrecision : uint8_t { f32, f16, int8 };

std::string serialize_model(const Transformer& model, const ModelExtras& extras,
                            StoredPrecision precision = StoredPrecision::f32);
// Atomic: a failure (a full disk, say) leaves any previous file at `path` as it was.
void save_model(const std::string& path, const Transformer& model, const ModelExtras& extras,
                StoredPrecision precision = StoredPrecision::f32);

struct LoadedModel {
  std::unique_ptr<Transformer> model;
  ModelExtras extras;
  uint64_t checksum = 0;
  uint32_t format_version = 0;
  int64_t file_bytes = 0;
  StoredPrecision precision = StoredPrecision::f32;  // f16 when any tensor was stored in half precision
};

// How a loaded model holds the matmul weights an int8 file stores: as f32 values (dequantised),
// or as the file's codes (Parameter::stored_codes), which ParameterSet::prepare turns into int8
// weights without an f32 copy of the model in between: for translation, where that copy would
// be the load's peak memory (and is dequantised anyway wherever the values are needed).
enum class Int8Tensors : bool { dequantized, as_codes };

// `what` names the source in errors (usually the path).
// `done_with`, when given, is handed each part of `bytes` that loading no longer needs (a
// mapped file's pages to give back, so that a load holds the weights and not the file besides).
LoadedModel parse_model(std::string_view bytes, const std::string& what,
                        const std::function<void(std::string_view)>& done_with = {},
                        Int8Tensors int8 = Int8Tensors::dequantized);
// The value of a "key=value" line of a model's metadata, or nullopt.
std::optional<std::string> metadata_value(const std::string& metadata, std::string_view key);
// The metadata with its "key=value" line replaced (or appended when absent).
std::string with_metadata_value(const std::string& metadata, std::string_view key, std::string_view value);
// The matmul precision a model was converted for (`heed convert --precision`): its metadata's
// "translate-precision=" line (`heed train` writes its own options, --precision among them, as
// other lines), f32 without one.
Precision model_precision(const ModelExtras& extras, const std::string& what);
// The length normalisation α a model was tuned for (`heed convert --normalize`, chosen on
// validation data): its metadata's "translate-normalize=" line, or nullopt without one. Throws,
// naming `what`, when the value is not a number in [0, 10].
std::optional<float> model_length_normalization(const ModelExtras& extras, const std::string& what);

// How many source pieces a word of the text the model learned from took, on average: its
// metadata's "source-pieces-per-word=" line (`heed train` writes it from its training data,
// `heed convert --domain-text` from a file), or nullopt without one. Text cut much finer than
// that is text the model never saw the like of. Throws, naming `what`, when it is not a number > 0.
std::optional<double> model_source_pieces_per_word(const ModelExtras& extras, const std::string& what);
inline constexpr std::string_view kSourcePiecesPerWordKey = "source-pieces-per-word";
// The mean length in pieces of the sentences it learned from ("source-pieces-per-sentence=",
// written beside the above): the length it translates best, to which a sentence too long for it
// is cut. nullopt without one; throws as the above.
std::optional<double> model_source_pieces_per_sentence(const ModelExtras& extras, const std::string& what);
inline constexpr std::string_view kSourcePiecesPerSentenceKey = "source-pieces-per-sentence";
// Both figures of a text, `pieces` of it in `words` words and `sentences` lines, into metadata.
std::string with_source_text_figures(const std::string& metadata, int64_t pieces, int64_t words, int64_t sentences);

// Only the metadata (for a model written by `heed train`: the options it was trained with).
std::string model_metadata(std::string_view bytes, const std::string& what);
LoadedModel load_model(const std::string& path, Int8Tensors int8 = Int8Tensors::dequantized);

// FNV-1a 64 (Fowler, Noll, Vo): changes with any single changed byte.
uint64_t model_checksum(std::string_view bytes);

// The vocabularies a model file embeds: "joint" serves both sides, else "source" and "target".
struct ModelVocabularies {
  std::shared_ptr<Vocabulary> source, target;  // the same object for a joint vocabulary
};
// `what` names the model in errors; throws when no usable vocabulary is embedded.
ModelVocabularies vocabularies_of(const ModelExtras& extras, const std::string& what);

// The text `heed info` prints.
std::string describe_model(const LoadedModel& loaded);

}  // namespace heed
