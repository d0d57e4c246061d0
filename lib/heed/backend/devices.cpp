#include "heed/backend/devices.h"

#include <charconv>

#include "heed/core/error.h"

namespace heed {
namespace {

DeviceSpec& selected() {
  static DeviceSpec device;
  return device;
}

}  // namespace

std::string DeviceSpec::str() const {
  return device == Device::cpu ? "cpu" : fmt::format("{}:{}", device_name(device), index);
}

std::string available_devices() { return "cpu"; }

DeviceSpec parse_device(std::string_view text) {
  if (text == "cpu") return {};
  if (text.substr(0, 4) == "cuda") {
    int index = 0;
    const std::string_view rest = text.substr(4);
    const bool well_formed =
        rest.empty() || (rest[0] == ':' && rest.size() > 1 &&
                         std::from_chars(rest.data() + 1, rest.data() + rest.size(), index).ptr == rest.data() + rest.size());
    if (well_formed)
      fail("device '{}': this build of heed has no CUDA backend (devices: {})", text, available_devices());
  }
  fail("device '{}' is not one of: {}", text, available_devices());
}

std::unique_ptr<Backend> make_backend(const DeviceSpec& device) {
  switch (device.device) {
    case Device::cpu: return make_backend(BackendKind::onednn);
    case Device::cuda: break;
  }
  fail("no backend for device {} in this build (devices: {})", device.str(), available_devices());
}

void select_device(const DeviceSpec& device) { selected() = device; }
const DeviceSpec& selected_device() { return selected(); }
std::unique_ptr<Backend> make_selected_backend() { return make_backend(selected()); }

}  // namespace heed
