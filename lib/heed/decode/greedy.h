#pragma once
// Greedy decoding: at every step, the most probable next piece. Used by validation until
// beam search (issue M4) replaces it.

#include <cstdint>
#include <vector>

#include "heed/model/transformer.h"

namespace heed {

struct LengthLimit {
  double factor = 2.0;  // at most factor · source pieces + offset target pieces
  int64_t offset = 10;
  int64_t limit(int64_t source_pieces) const { return static_cast<int64_t>(factor * static_cast<double>(source_pieces)) + offset; }
};

// Translates one batch: sources are pieces without eos; results are pieces without bos/eos.
std::vector<std::vector<int32_t>> greedy_decode(Backend& be, Transformer& model,
                                                const std::vector<std::vector<int32_t>>& sources,
                                                const LengthLimit& length);

}  // namespace heed
