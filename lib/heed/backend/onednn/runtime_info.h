#pragma once
// What the CPU backend runs on: oneDNN's version and threading runtime, the instruction set its
// kernels were compiled for on this CPU, and the CPU itself. Speed depends on all of them, so
// `heed --version`, benchmarks and bug reports print them.

#include <cstdint>
#include <string>

namespace heed {

struct RuntimeInfo {
  std::string onednn_version;  // "2.6.3 (commit 8fb5a4e)"
  std::string cpu_runtime;     // "OpenMP", "TBB", "sequential", ...
  std::string isa;             // the kernels' instruction set, "Intel AMX (bf16, int8)" ...
  std::string int8;            // how int8 products sum, and the inputs' bits that keeps exact
  std::string cpu_model;       // /proc/cpuinfo's model name
  int hardware_threads = 0;
};

RuntimeInfo runtime_info();

// The largest int8 input code oneDNN's kernels sum exactly on this CPU (prepared_weight.h): 127
// where they add each u8 · s8 product into 32 bits (VNNI, AMX), 63 where they add pairs of
// products in saturating 16 bits first (vpmaddubsw: SSE4.1, AVX2, AVX-512 without VNNI).
int32_t onednn_int8_input_limit();

// One line for logs and benchmark headers: "Intel(R) Xeon(R) Processor, 2 threads, oneDNN 2.6.3, AMX (bf16, int8)".
std::string runtime_summary();

}  // namespace heed
