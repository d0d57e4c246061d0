#pragma once
// Where a run computes: the one place a backend is chosen for a device. `heed --device` selects
// it once for the process (as --threads sets the thread count); every command that computes
// makes its backends with make_selected_backend(). A new device backend is one more case in
// make_backend() (devices.cpp) and its directory under backend/.

#include <memory>
#include <string>
#include <string_view>

#include "heed/backend/backend.h"

namespace heed {

struct DeviceSpec {
  Device device = Device::cpu;
  int index = 0;  // which of several devices of the kind (cuda:1)
  std::string str() const;
};

// "cpu", "cuda" or "cuda:N"; anything else, or a device this build has no backend for, throws
// an Error that lists what this build offers.
DeviceSpec parse_device(std::string_view text);
std::string available_devices();  // e.g. "cpu"

std::unique_ptr<Backend> make_backend(const DeviceSpec& device);

void select_device(const DeviceSpec& device);
const DeviceSpec& selected_device();
std::unique_ptr<Backend> make_selected_backend();

}  // namespace heed
