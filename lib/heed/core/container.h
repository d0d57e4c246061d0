#pragma once
// A checksummed binary container, the shape every heed file shares:
//
//   magic (8 bytes) | u32 version | u32 flags | u64 file size | sections … | u64 checksum | end marker (8 bytes)
//
// The checksum is FNV-1a 64 over every byte before it. Opening checks, in order and each with
// its own message: magic (foreign file), version (written by a newer heed), size (truncated,
// or trailing bytes), end marker and checksum (corrupted). Sections are read through a
// bounds-checked cursor whose errors say "malformed". Integers are little-endian.

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace heed {

inline constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;
// `state`: the hash of what came before, to hash a sequence of pieces as one string.
uint64_t fnv1a64(std::string_view bytes, uint64_t state = kFnv1aOffset);

class ContainerWriter {
 public:
  ContainerWriter(std::string_view magic, uint32_t version);
  template <typename T> void put(T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    out_.append(raw, sizeof(T));
  }
  void put_text32(std::string_view s);   // u32 length + bytes
  void put_bytes64(std::string_view s);  // u64 length + bytes
  // Patches the size, appends checksum and end marker, and hands over the bytes.
  std::string finish();

 private:
  std::string out_;
};

class ContainerReader {
 public:
  // When the checksum is compared. `on_open`: before the constructor returns. `on_verify`: on a
  // second thread while the caller parses, compared by verify(): FNV-1a is a chain of byte-long
  // steps that nothing can shorten, the largest part of loading a model.
  enum class Checksum { on_open, on_verify };

  // Validates the envelope; `kind` names the file type in messages ("heed model"). `hashed`, when
  // given, is handed each part of the bytes once the checksum has read it (a mapped file's pages
  // to give back).
  using HashedParts = std::function<void(std::string_view)>;
  ContainerReader(std::string_view bytes, std::string what, std::string_view magic, std::string_view kind,
                  uint32_t newest_version, Checksum when = Checksum::on_open, HashedParts hashed = {});
  ~ContainerReader();
  ContainerReader(const ContainerReader&) = delete;
  ContainerReader& operator=(const ContainerReader&) = delete;

  // With Checksum::on_verify: waits for the checksum and throws if it does not match. Call it
  // before trusting what was parsed, and when parsing failed (a damaged file is then reported
  // as corrupted, not by whatever its damage broke). Later calls return at once.
  void verify();

  uint32_t version() const { return version_; }
  uint64_t checksum();  // verifies first

  template <typename T> T get(const char* field) {
    need(sizeof(T), field);
    T value;
    std::memcpy(&value, body_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string_view take(uint64_t n, const char* field);
  std::string_view text32(const char* field) { return take(get<uint32_t>(field), field); }
  std::string_view bytes64(const char* field) { return take(get<uint64_t>(field), field); }
  // Throws unless every section byte was read.
  void expect_end() const;
  const std::string& what() const { return what_; }

 private:
  void need(uint64_t n, const char* field) const;
  std::string_view body_;  // the sections
  std::string what_;
  size_t pos_ = 0;
  uint32_t version_ = 0;
  uint64_t stored_checksum_ = 0;
  uint64_t checksum_ = 0;
  std::thread hashing_;  // Checksum::on_verify, until verify() joins it
};

}  // namespace heed
