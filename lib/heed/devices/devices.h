#pragma once
// Where a run computes: the one place that knows every backend and makes one. `heed --device`
// becomes a DeviceSpec in app/, which hands it to whatever computes; the library never decides
// the device itself. A new device backend is one more case in make_backend() (devices.cpp) and
// its directory under backend/.

#include <memory>
#include <string>
#include <string_view>

#include "heed/backend/backend.h"

namespace heed {

struct DeviceSpec {
  Device device = Device::cpu;
  int index = 0;      // which of several devices of the kind (cuda:1)
  bool tf32 = false;  // CUDA: f32 matmuls may round their operands to TF32 (`heed --tf32`)
  std::string str() const;
};

// "cpu", "cuda" or "cuda:N"; anything else, or a device this build has no backend for (or this
// machine lacks), throws an Error that lists what this build offers.
DeviceSpec parse_device(std::string_view text);
std::string available_devices();  // e.g. "cpu, cuda (1 GPU)"

// Whether this build has the CUDA backend (CMake found the toolkit), and the GPUs it sees.
bool built_with_cuda();
int cuda_gpu_count();
std::string cuda_summary();  // one line per GPU, or why there is none
// Whether this process has loaded cuBLASLt, which a CUDA build opens only when a CUDA backend is
// made (it maps over a hundred MB): false for every CPU run.
bool cuda_matmul_library_loaded();
// Loads it now, as making a CUDA backend does (an Error naming the library if it cannot): lets a
// machine without a GPU check that a CUDA build finds it.
void load_cuda_matmul_library();

// A backend computing on `device`: oneDNN's on the CPU.
std::unique_ptr<Backend> make_backend(const DeviceSpec& device);

// The CPU's two implementations by name: oneDNN's, which runs everything, and the reference, plain
// loops that tests compare every other backend against.
enum class BackendKind : uint8_t { onednn, reference };
std::unique_ptr<Backend> make_backend(BackendKind kind);

}  // namespace heed
