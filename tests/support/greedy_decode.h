#pragma once
// Greedy decoding written plainly, step by step over one IncrementalDecoder: at every step, the
// most probable next piece. The oracle that beam search at beam 1 is checked against, and a
// quick way for the training tests to read what a model learned.

#include <cstdint>
#include <vector>

#include "heed/decode/beam_search.h"

namespace heed::test {

// Translates one batch: sources are pieces without eos; results are pieces without bos/eos.
std::vector<std::vector<int32_t>> greedy_decode(Backend& be, Transformer& model,
                                                const std::vector<std::vector<int32_t>>& sources,
                                                const LengthLimit& length);

}  // namespace heed::test
