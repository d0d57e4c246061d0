#pragma once
// What the machine can give this process: MemAvailable + SwapFree from /proc/meminfo (0 where
// that file is unreadable). heed limits its tensors to this at start (tensor.h), so that a
// batch that does not fit fails with its size before training begins.

#include <cstddef>

namespace heed {

size_t available_memory_bytes();

// The most memory this process has held in RAM so far (its peak resident set), for the summaries
// that commands print.
size_t peak_resident_bytes();

}  // namespace heed
