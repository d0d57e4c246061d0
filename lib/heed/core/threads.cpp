#include "heed/core/threads.h"

#include <omp.h>

#include <thread>

#include "heed/core/error.h"

namespace heed {

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void set_threads(int count) {
  HEED_CHECK(count >= 0, "--threads must be 0 (all cores) or positive, got {}", count);
  omp_set_num_threads(count == 0 ? hardware_threads() : count);
}

int current_threads() { return omp_get_max_threads(); }

}  // namespace heed
