#include "heed/model/int8_storage.h"

#include "heed/backend/prepared_weight.h"

namespace heed {

Int8Weight quantize_channels(const float* values, const Shape& shape, int channel_axis) {
  Int8Weight w;
  w.codes.resize(static_cast<size_t>(shape.numel()));
  w.scales.resize(static_cast<size_t>(shape[channel_axis]));
  int8_quantize_channels(values, shape[0], shape[1], channel_axis, w.codes.data(), w.scales.data());
  return w;
}

void dequantize_channels(const int8_t* codes, const float* scales, const Shape& shape, int channel_axis, float* values) {
  int8_dequantize_channels(codes, scales, shape[0], shape[1], channel_axis, values);
}

}  // namespace heed
