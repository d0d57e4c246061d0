#include "heed/core/system_memory.h"

#include <fstream>
#include <string>

namespace heed {

size_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  size_t kib = 0, total = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:" || key == "SwapFree:") total += kib;
  return total * 1024;
}

}  // namespace heed
