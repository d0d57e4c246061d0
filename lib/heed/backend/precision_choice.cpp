#include "heed/backend/precision_choice.h"

#include <spdlog/spdlog.h>

namespace heed {

Precision usable_precision(Backend& be, Precision wanted, std::string_view job) {
  if (wanted == Precision::f32) return wanted;
  const bool cpu = be.device() == Device::cpu;
  if (!be.supports(wanted)) {
    spdlog::warn("this {} has no fast {} matmul kernels{}: using f32 ones", cpu ? "CPU" : "GPU", precision_name(wanted),
                 cpu && wanted == Precision::bf16 ? " (bf16 needs AVX-512)" : "");
    return Precision::f32;
  }
  if (const double speedup = be.matmul_speedup(wanted); speedup < 1.0)
    spdlog::warn("{} matmuls run at {:.2f}× the speed of f32 ones on this machine (measured): --precision f32 would {} faster",
                 precision_name(wanted), speedup, job);
  return wanted;
}

}  // namespace heed
