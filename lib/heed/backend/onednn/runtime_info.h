#pragma once
// What the CPU backend runs on: oneDNN's version and threading runtime, the instruction set its
// kernels were compiled for on this CPU, and the CPU itself. Speed depends on all of them, so
// `heed --version`, benchmarks and bug reports print them.

#include <string>

namespace heed {

struct RuntimeInfo {
  std::string onednn_version;  // "2.6.3 (commit 8fb5a4e)"
  std::string cpu_runtime;     // "OpenMP", "TBB", "sequential", ...
  std::string isa;             // the kernels' instruction set, "Intel AMX (bf16, int8)" ...
  std::string cpu_model;       // /proc/cpuinfo's model name
  int hardware_threads = 0;
};

RuntimeInfo runtime_info();

// One line for logs and benchmark headers: "Intel(R) Xeon(R) Processor, 2 threads, oneDNN 2.6.3, AMX (bf16, int8)".
std::string runtime_summary();

}  // namespace heed
