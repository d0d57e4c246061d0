#pragma once
// The number of threads heed's kernels use (oneDNN runs on OpenMP here, and our own loops do
// too, so one setting governs both).

namespace heed {

int hardware_threads();
// Sets the thread count; 0 means all cores.
void set_threads(int count);
int current_threads();

}  // namespace heed
