// libFuzzer target: any bytes through the model loader (heed info, heed translate -m) must end in
// a loaded model or a heed::Error, never a crash, a hang or an allocation without bound.
// Half the inputs get a valid container size and checksum first, so that the mutations reach the
// parser behind them instead of stopping at the checksum.
// Build: cmake -DCMAKE_CXX_COMPILER=clang++ -DHEED_FUZZ=ON; run: heed_fuzz_model_loader CORPUS_DIR
// (.ci/run does this for a bounded time, seeded with a real model file).

#include <cstdint>
#include <cstring>
#include <string>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/model/model_file.h"

namespace {

// The container's framing: a 24-byte header whose bytes 16..23 hold the file size, and a 16-byte
// trailer of checksum and end marker (lib/heed/core/container.cpp).
void repair(std::string& bytes) {
  const uint64_t size = bytes.size();
  std::memcpy(bytes.data() + 16, &size, sizeof size);
  const uint64_t checksum = heed::fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 16));
  std::memcpy(bytes.data() + bytes.size() - 16, &checksum, sizeof checksum);
  std::memcpy(bytes.data() + bytes.size() - 8, "HEEDEND\0", 8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte chooses: odd repairs the framing, even leaves the bytes as they are.
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0 && bytes.size() > 40) repair(bytes);
  try {
    heed::parse_model(bytes, "fuzz.heed");
  } catch (const heed::Error&) {
  }
  return 0;
}
