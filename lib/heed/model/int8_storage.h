#pragma once
// int8 storage of a matmul weight, as `heed convert --precision int8` writes it: one scale per
// output channel (the columns of W for x · W, the rows of a tied table read as x · Wᵀ), and codes
// q = round(w / scale) in [−127, 127] with scale = max|w| / 127 over the channel (1 for a channel
// of zeros). It is the rule PreparedWeight's int8 quantisation applies, so preparing the stored
// weights q · scale for int8 matmuls gives back the very codes the file holds: an int8 file
// translates as the f16 file it came from does with `--precision int8`, at half its size.

#include <cstdint>
#include <vector>

#include "heed/core/shape.h"

namespace heed {

struct Int8Weight {
  std::vector<int8_t> codes;  // row-major, as the f32 values were
  std::vector<float> scales;  // one per channel
};

// `channel_axis`: the dimension of a [rows, cols] weight that indexes its output channels, 1 (one
// scale per column) or 0 (one per row).
Int8Weight quantize_channels(const float* values, const Shape& shape, int channel_axis);
// values[i] = codes[i] · scales[channel of i]
void dequantize_channels(const int8_t* codes, const float* scales, const Shape& shape, int channel_axis, float* values);

}  // namespace heed
