#pragma once
// Checks for numeric options: every number a user types is finite and in a stated range, and the
// message says the range in plain digits ("--lr: 'nan' must be a number greater than 0 and at
// most 10"), never a silent NaN run or a 308-digit bound.

#include <CLI/CLI.hpp>

#include <cstdint>

namespace heed::app {

enum class Bound : bool { closed, open };

// A CLI11 check: the value parses as a finite number in [low, high] (or (low, ...) with an open bound).
CLI::Validator number_in(double low, double high, Bound low_bound = Bound::closed, Bound high_bound = Bound::closed);
// A CLI11 check for whole numbers that must keep every digit (a seed): plain decimal digits, at
// most `high`; no sign, fraction or exponent, and no silent clamping of a larger number.
CLI::Validator whole_number_up_to(uint64_t high);

}  // namespace heed::app
