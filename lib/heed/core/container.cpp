#include "heed/core/container.h"

#include <fmt/format.h>

#include <bit>

#include "heed/core/error.h"

namespace heed {
namespace {

static_assert(std::endian::native == std::endian::little, "heed's files are little-endian");

constexpr std::string_view kEndMarker{"HEEDEND\0", 8};
constexpr size_t kHeaderBytes = 24;
constexpr size_t kTrailerBytes = 16;

}  // namespace

uint64_t fnv1a64(std::string_view bytes, uint64_t state) {
  uint64_t h = state;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

ContainerWriter::ContainerWriter(std::string_view magic, uint32_t version) {
  out_.append(magic);
  put(version);
  put(uint32_t{0});  // flags
  put(uint64_t{0});  // file size, patched by finish()
}

void ContainerWriter::put_text32(std::string_view s) {
  put(static_cast<uint32_t>(s.size()));
  out_.append(s);
}

void ContainerWriter::put_bytes64(std::string_view s) {
  put(static_cast<uint64_t>(s.size()));
  out_.append(s);
}

std::string ContainerWriter::finish() {
  const uint64_t size = out_.size() + kTrailerBytes;
  std::memcpy(out_.data() + 16, &size, sizeof size);
  put(fnv1a64(out_));
  out_.append(kEndMarker);
  return std::move(out_);
}

ContainerReader::ContainerReader(std::string_view bytes, std::string what, std::string_view magic,
                                 std::string_view kind, uint32_t newest_version, Checksum when, HashedParts hashed)
    : what_(std::move(what)) {
  HEED_CHECK(!bytes.empty(), "{} is empty, not a {} file", what_, kind);
  if (bytes.size() < magic.size() || bytes.substr(0, magic.size()) != magic) {
    const bool prefix = magic.substr(0, bytes.size()) == bytes.substr(0, magic.size());
    HEED_CHECK(!prefix, "{} is truncated: {} bytes, too short to be a {} file", what_, bytes.size(), kind);
    fail("{} is not a {} file (it does not start with '{}')", what_, kind, magic);
  }
  HEED_CHECK(bytes.size() >= kHeaderBytes + kTrailerBytes, "{} is truncated: {} bytes, too short to be a {} file", what_,
             bytes.size(), kind);
  uint64_t stated_size;
  std::memcpy(&version_, bytes.data() + 8, sizeof version_);
  std::memcpy(&stated_size, bytes.data() + 16, sizeof stated_size);
  // A version above ours is a newer heed's file only if the bytes are whole; a damaged version
  // field (one flipped bit) is corruption, and "upgrade heed" would send the user the wrong way.
  if (version_ > newest_version) {
    uint64_t stored;
    std::memcpy(&stored, bytes.data() + bytes.size() - kTrailerBytes, sizeof stored);
    HEED_CHECK(fnv1a64(bytes.substr(0, bytes.size() - kTrailerBytes)) == stored,
               "{} is corrupted: its format version reads {} (this heed reads {} and older) and its checksum does not "
               "match",
               what_, version_, newest_version);
  }
  HEED_CHECK(version_ <= newest_version,
             "{} was written by a newer heed (format {}; this heed reads format {} and older): upgrade heed", what_,
             version_, newest_version);
  HEED_CHECK(version_ >= 1, "{} has an invalid format version 0", what_);
  HEED_CHECK(bytes.size() >= stated_size, "{} is truncated: it has {} of its {} bytes", what_, bytes.size(), stated_size);
  HEED_CHECK(bytes.size() == stated_size, "{} has {} unexpected bytes after its end", what_, bytes.size() - stated_size);
  HEED_CHECK(bytes.substr(bytes.size() - kEndMarker.size()) == kEndMarker, "{} is corrupted: its end marker is damaged",
             what_);
  const std::string_view covered = bytes.substr(0, bytes.size() - kTrailerBytes);
  std::memcpy(&stored_checksum_, bytes.data() + covered.size(), sizeof stored_checksum_);
  body_ = covered.substr(kHeaderBytes);
  if (when == Checksum::on_verify) {
    hashing_ = std::thread([this, covered, hashed = std::move(hashed)] {
      constexpr size_t kPart = size_t{16} << 20;
      uint64_t state = kFnv1aOffset;
      for (size_t at = 0; at < covered.size(); at += kPart) {
        const std::string_view part = covered.substr(at, kPart);
        state = fnv1a64(part, state);
        if (hashed) hashed(part);
      }
      checksum_ = state;
    });
  } else {
    checksum_ = fnv1a64(covered);
    verify();
  }
}

ContainerReader::~ContainerReader() {
  if (hashing_.joinable()) hashing_.join();
}

void ContainerReader::verify() {
  if (hashing_.joinable()) hashing_.join();
  HEED_CHECK(checksum_ == stored_checksum_, "{} is corrupted: checksum {:016x} does not match the stored {:016x}", what_,
             checksum_, stored_checksum_);
}

uint64_t ContainerReader::checksum() {
  verify();
  return checksum_;
}

std::string_view ContainerReader::take(uint64_t n, const char* field) {
  need(n, field);
  const std::string_view s = body_.substr(pos_, n);
  pos_ += n;
  return s;
}

void ContainerReader::expect_end() const {
  HEED_CHECK(pos_ == body_.size(), "{} is malformed: {} bytes follow its last section", what_, body_.size() - pos_);
}

void ContainerReader::need(uint64_t n, const char* field) const {
  HEED_CHECK(n <= body_.size() - pos_, "{} is malformed: {} needs {} bytes at offset {}, only {} remain", what_, field, n,
             pos_ + kHeaderBytes, body_.size() - pos_);
}

}  // namespace heed
