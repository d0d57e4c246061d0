#include "heed/core/shape.h"

#include "heed/core/error.h"

namespace heed {

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

int64_t Shape::operator[](int axis) const {
  const int a = axis < 0 ? axis + rank_ : axis;
  HEED_CHECK(a >= 0 && a < rank_, "axis {} out of range for shape {}", axis, str());
  return dims_[a];
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[i];
  return n;
}

int64_t Shape::rows() const {
  int64_t n = 1;
  for (int i = 0; i + 1 < rank_; ++i) n *= dims_[i];
  return n;
}

void Shape::push_back(int64_t dim) {
  HEED_CHECK(rank_ < kMaxRank, "shape {} cannot grow past rank {}", str(), kMaxRank);
  HEED_CHECK(dim >= 0, "negative dimension {} in shape", dim);
  dims_[rank_++] = dim;
}

Shape Shape::with(int axis, int64_t dim) const {
  const int a = axis < 0 ? axis + rank_ : axis;
  HEED_CHECK(a >= 0 && a < rank_, "axis {} out of range for shape {}", axis, str());
  Shape s = *this;
  s.dims_[a] = dim;
  return s;
}

bool Shape::operator==(const Shape& other) const {
  if (rank_ != other.rank_) return false;
  for (int i = 0; i < rank_; ++i)
    if (dims_[i] != other.dims_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

}  // namespace heed
