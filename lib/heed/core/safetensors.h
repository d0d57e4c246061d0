#pragma once
// SafeTensors: a model's weights in the safetensors format (Hugging Face's): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw tensors. Read whole and checked before any tensor is handed out: every range
// inside the file and of the size its shape says.

#include <cstdint>
#include <string>
#include <vector>

#include "heed/core/json.h"
#include "heed/core/tensor.h"

namespace heed {

class SafeTensors {
 public:
  struct Entry {
    std::string name;
    std::string dtype;            // "F32", "F16", "BF16", ...
    std::vector<int64_t> shape;
    size_t begin = 0, end = 0;    // byte range in the data after the header
  };

  static SafeTensors read(const std::string& path);
  // `what` names the bytes in errors.
  static SafeTensors parse(std::string bytes, const std::string& what);

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const;
  // The tensor as f32 (F32, F16 and BF16 are read; anything else is refused, naming it). A
  // missing name throws, naming the file.
  Tensor f32(const std::string& name) const;
  // The header's "__metadata__" (string to string), or null.
  const Json& metadata() const { return metadata_; }

 private:
  std::string what_;
  std::string bytes_;
  size_t data_start_ = 0;
  std::vector<Entry> entries_;
  Json metadata_;
};

}  // namespace heed
