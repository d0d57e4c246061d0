#include "heed/model/int8_storage.h"

#include <algorithm>
#include <cmath>

#include "heed/backend/prepared_weight.h"

namespace heed {
namespace {

// Visits a [rows, cols] matrix as channels: f(channel, index of the element in the matrix).
template <typename F>
void for_each_element(const Shape& shape, int channel_axis, F&& f) {
  const int64_t rows = shape[0], cols = shape[1];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) f(channel_axis == 1 ? c : r, r * cols + c);
}

}  // namespace

Int8Weight quantize_channels(const float* values, const Shape& shape, int channel_axis) {
  Int8Weight w;
  w.codes.resize(static_cast<size_t>(shape.numel()));
  w.scales.resize(static_cast<size_t>(shape[channel_axis]));
  int8_quantize_channels(values, shape[0], shape[1], channel_axis, w.codes.data(), w.scales.data());
  return w;
}

void dequantize_channels(const int8_t* codes, const float* scales, const Shape& shape, int channel_axis, float* values) {
  for_each_element(shape, channel_axis,
                   [&](int64_t ch, int64_t i) { values[i] = static_cast<float>(codes[i]) * scales[ch]; });
}

}  // namespace heed
