#include "heed/backend/onednn/runtime_info.h"

#include <fmt/format.h>

#include <fstream>

#include <oneapi/dnnl/dnnl.h>

#include "heed/backend/prepared_weight.h"
#include "heed/core/threads.h"

namespace heed {
namespace {

// dnnl_get_effective_cpu_isa() names the most capable kernel family oneDNN will dispatch to on
// this CPU (capped by DNNL_MAX_CPU_ISA when a user sets it).
std::string isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "SSE4.1";
    case dnnl_cpu_isa_avx: return "AVX";
    case dnnl_cpu_isa_avx2: return "AVX2";
    case dnnl_cpu_isa_avx2_vnni: return "AVX2 with VNNI (int8)";
    case dnnl_cpu_isa_avx512_mic: return "AVX-512 (Xeon Phi)";
    case dnnl_cpu_isa_avx512_mic_4ops: return "AVX-512 (Xeon Phi, 4FMAPS)";
    case dnnl_cpu_isa_avx512_core: return "AVX-512";
    case dnnl_cpu_isa_avx512_core_vnni: return "AVX-512 with VNNI (int8)";
    case dnnl_cpu_isa_avx512_core_bf16: return "AVX-512 BF16 (bf16, int8 VNNI)";
    case dnnl_cpu_isa_avx512_core_amx: return "Intel AMX (bf16, int8)";
    default: return fmt::format("unknown ({:#x})", static_cast<unsigned>(isa));
  }
}

bool has_32_bit_int8_sums(dnnl_cpu_isa_t isa) {
  return isa == dnnl_cpu_isa_avx2_vnni || isa == dnnl_cpu_isa_avx512_core_vnni || isa == dnnl_cpu_isa_avx512_core_bf16 ||
         isa == dnnl_cpu_isa_avx512_core_amx;
}

std::string cpu_runtime_name(unsigned runtime) {
  switch (runtime) {
    case DNNL_RUNTIME_OMP: return "OpenMP";
    case DNNL_RUNTIME_TBB: return "TBB";
    case DNNL_RUNTIME_SEQ: return "sequential";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
    default: return "other";
  }
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown CPU" : line.substr(start);
  }
  return "unknown CPU";
}

}  // namespace

RuntimeInfo runtime_info() {
  const dnnl_version_t* v = dnnl_version();
  RuntimeInfo info;
  info.onednn_version = fmt::format("{}.{}.{}", v->major, v->minor, v->patch);
  const std::string hash = v->hash ? std::string(v->hash) : "";
  if (!hash.empty() && hash != "N/A") info.onednn_version += fmt::format(" (commit {})", hash.substr(0, 10));
  info.cpu_runtime = cpu_runtime_name(v->cpu_runtime);
  info.isa = isa_name(dnnl_get_effective_cpu_isa());
  info.int8 = onednn_int8_input_limit() == kInt8FullInputLimit
                  ? "u8·s8 products summed in 32 bits: 8-bit inputs, exact"
                  : "u8·s8 products summed in pairs in 16 bits (no VNNI): 7-bit inputs, so that no sum saturates: exact";
  info.cpu_model = cpu_model_name();
  info.hardware_threads = hardware_threads();
  return info;
}

int32_t onednn_int8_input_limit() {
  static const int32_t limit = has_32_bit_int8_sums(dnnl_get_effective_cpu_isa()) ? kInt8FullInputLimit : kInt8NarrowInputLimit;
  return limit;
}

std::string runtime_summary() {
  const RuntimeInfo info = runtime_info();
  return fmt::format("{}, {} hardware threads, oneDNN {} kernels: {}", info.cpu_model, info.hardware_threads,
                     info.onednn_version.substr(0, info.onednn_version.find(' ')), info.isa);
}

}  // namespace heed
