#pragma once
// NumPy's .npz archives (numpy.savez, and Marian's model files, which are written in the same
// form): a zip file of .npy arrays, each stored or deflated. Read whole and checked before any
// array is handed out: every entry inside the file, its checksum right, its .npy header
// readable and of the size its shape says.

#include <cstdint>
#include <string>
#include <vector>

#include "heed/core/tensor.h"

namespace heed {

class Npz {
 public:
  struct Array {
    std::string name;             // without the ".npy" the archive adds
    std::string dtype;            // NumPy's descr: "<f4", "<f2", "|i1", ...
    std::vector<int64_t> shape;
    std::string data;             // the values, in C order
  };

  static Npz read(const std::string& path);
  // `what` names the bytes in errors.
  static Npz parse(const std::string& bytes, const std::string& what);

  const std::vector<Array>& arrays() const { return arrays_; }
  const Array* find(const std::string& name) const;
  // The array as f32 ("<f4" and "<f2" are read; anything else is refused, naming it). A missing
  // name throws, naming the file.
  Tensor f32(const std::string& name) const;

 private:
  std::string what_;
  std::vector<Array> arrays_;
};

}  // namespace heed
