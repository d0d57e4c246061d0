#include "heed/devices/devices.h"

#include <charconv>

#include "heed/backend/onednn/onednn_backend.h"
#include "heed/backend/reference/reference_backend.h"
#include "heed/core/error.h"

#ifdef HEED_CUDA
#include "heed/backend/cuda/cublaslt_library.h"
#include "heed/backend/cuda/cuda_backend.h"
#endif

namespace heed {

std::string DeviceSpec::str() const {
  return device == Device::cpu ? "cpu" : fmt::format("{}:{}", device_name(device), index);
}

#ifdef HEED_CUDA
bool built_with_cuda() { return true; }
int cuda_gpu_count() { return cuda_device_count(); }
std::string cuda_summary() {
  const int count = cuda_device_count();
  if (count == 0) return "built in, no GPU found (no NVIDIA driver, or no device)";
  std::string lines = "built in";
  for (int i = 0; i < count; ++i) lines += "; " + cuda_device_description(i);
  return lines;
}
bool cuda_matmul_library_loaded() { return cublaslt_is_mapped(); }
void load_cuda_matmul_library() { cublaslt(); }
#else
bool built_with_cuda() { return false; }
int cuda_gpu_count() { return 0; }
std::string cuda_summary() { return "not built in (no CUDA toolkit at build time)"; }
bool cuda_matmul_library_loaded() { return false; }
void load_cuda_matmul_library() { fail("this build has no CUDA backend"); }
#endif

std::string available_devices() {
  if (!built_with_cuda()) return "cpu";
  const int gpus = cuda_gpu_count();
  return gpus == 0 ? "cpu (cuda built in, no GPU found)" : fmt::format("cpu, cuda, cuda:0 … cuda:{}", gpus - 1);
}

DeviceSpec parse_device(std::string_view text) {
  if (text == "cpu") return {};
  if (text.substr(0, 4) == "cuda") {
    int index = 0;
    const std::string_view rest = text.substr(4);
    const bool well_formed =
        rest.empty() || (rest[0] == ':' && rest.size() > 1 &&
                         std::from_chars(rest.data() + 1, rest.data() + rest.size(), index).ptr == rest.data() + rest.size());
    if (well_formed) {
      if (!built_with_cuda()) fail("device '{}': this build of heed has no CUDA backend (devices: {})", text, available_devices());
      if (index >= cuda_gpu_count())
        fail("device '{}': this machine has {} CUDA GPU(s) (devices: {})", text, cuda_gpu_count(), available_devices());
      return {.device = Device::cuda, .index = index};
    }
  }
  fail("device '{}' is not one of: {}", text, available_devices());
}

std::unique_ptr<Backend> make_backend(const DeviceSpec& device) {
  switch (device.device) {
    case Device::cpu: return make_backend(BackendKind::onednn);
    case Device::cuda:
#ifdef HEED_CUDA
      return make_cuda_backend({.device = device.index, .tf32 = device.tf32});
#else
      break;
#endif
  }
  fail("no backend for device {} in this build (devices: {})", device.str(), available_devices());
}

std::unique_ptr<Backend> make_backend(BackendKind kind) {
  switch (kind) {
    case BackendKind::onednn: return std::make_unique<OneDnnBackend>();
    case BackendKind::reference: return std::make_unique<ReferenceBackend>();
  }
  fail("unknown backend kind {}", static_cast<int>(kind));
}

}  // namespace heed
