// libFuzzer target: any bytes through the model loader (heed info, heed translate -m) or the
// parsers of the files `heed convert --from` reads (JSON, safetensors, .npz, Marian's YAML) must
// end in a result or a heed::Error, never a crash, a hang or an allocation without bound.
// The first byte chooses the parser (bits 1-3) and, for heed's own files, whether the container's
// size and checksum are made valid first (bit 0), so that the mutations reach the parser behind
// them instead of stopping at the checksum.
// Build: cmake -DCMAKE_CXX_COMPILER=clang++ -DHEED_FUZZ=ON; run: heed_fuzz_model_loader CORPUS_DIR
// (.ci/run does this for a bounded time, seeded with a real model file).

#include <cstdint>
#include <cstring>
#include <string>

#include "heed/core/container.h"
#include "heed/core/error.h"
#include "heed/core/json.h"
#include "heed/core/npz.h"
#include "heed/core/safetensors.h"
#include "heed/core/yaml_map.h"
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
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch ((data[0] >> 1) % 5) {
      case 0:
        if ((data[0] & 1) != 0 && bytes.size() > 40) repair(bytes);
        heed::parse_model(bytes, "fuzz.heed");
        break;
      case 1: heed::Json::parse(bytes, "fuzz.json"); break;
      case 2: heed::SafeTensors::parse(bytes, "fuzz.safetensors"); break;
      case 3: heed::Npz::parse(bytes, "fuzz.npz"); break;
      default: heed::YamlMap::parse(bytes, "fuzz.yml"); break;
    }
  } catch (const heed::Error&) {
  }
  return 0;
}
