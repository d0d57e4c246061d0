#include "heed/core/system_memory.h"

#include <sys/resource.h>

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

size_t peak_resident_bytes() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<size_t>(usage.ru_maxrss) * 1024;  // Linux gives KiB
}

}  // namespace heed
