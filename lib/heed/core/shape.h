#pragma once
// Shape: the dimensions of a tensor, row-major, at most kMaxRank of them. Fixed capacity so
// that building and comparing shapes on the hot path never touches the heap.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace heed {

class Shape {
 public:
  static constexpr int kMaxRank = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int axis) const;        // negative axes count from the end
  int64_t numel() const;
  int64_t rows() const;                      // product of all dims but the last
  int64_t cols() const { return rank_ == 0 ? 1 : dims_[rank_ - 1]; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }

  void push_back(int64_t dim);
  Shape with(int axis, int64_t dim) const;   // a copy with one dim replaced

  bool operator==(const Shape& other) const;
  bool operator!=(const Shape& other) const { return !(*this == other); }
  std::string str() const;                   // "[2, 3, 4]"

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace heed
