#pragma once
// Which matmul precision a job runs at: the one asked for when the backend has kernels for it,
// with a warning when those kernels measure slower than f32 (bf16 on CPUs without AMX), and f32
// with a warning when it has none.

#include <string_view>

#include "heed/backend/backend.h"

namespace heed {

// `job` ends the warnings' advice: "translate" gives "--precision f32 would translate faster".
Precision usable_precision(Backend& be, Precision wanted, std::string_view job);

}  // namespace heed
