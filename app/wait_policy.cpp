#include "wait_policy.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace heed::app {
namespace {

// Set before main() by choose_wait_policy(); read afterwards.
const char* g_description = "active (OpenMP's default)";

// Threads runnable right now on the whole machine, from /proc/stat's procs_running, or -1.
// Plain system calls only: this runs before the C++ runtime is initialised.
int runnable_threads() {
  const int fd = ::open("/proc/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  static char buffer[16384];
  ssize_t total = 0, n = 0;
  while (total < static_cast<ssize_t>(sizeof buffer) - 1 &&
         (n = ::read(fd, buffer + total, sizeof buffer - 1 - static_cast<size_t>(total))) > 0)
    total += n;
  ::close(fd);
  buffer[total > 0 ? total : 0] = '\0';
  const char* at = std::strstr(buffer, "\nprocs_running ");
  return at == nullptr ? -1 : std::atoi(at + std::strlen("\nprocs_running "));
}

// Other threads running, sampled three times over two milliseconds (ours is one of them).
bool machine_is_busy() {
  int busy_samples = 0;
  for (int sample = 0; sample < 3; ++sample) {
    if (sample > 0) {
      const timespec pause{0, 1000000};
      ::nanosleep(&pause, nullptr);
    }
    const int running = runnable_threads();
    if (running < 0) return false;
    busy_samples += running - 1 >= 1 ? 1 : 0;
  }
  return busy_samples >= 2;
}

bool has_variable(char** envp, const char* prefix) {
  for (char** e = envp; e != nullptr && *e != nullptr; ++e)
    if (std::strncmp(*e, prefix, std::strlen(prefix)) == 0) return true;
  return false;
}

// Marks the environment of the process heed re-executes, so that it knows why the policy is set.
constexpr const char* kChosenMarker = "HEED_OPENMP_WAIT=passive-busy";

// libc installs the environment only after .preinit_array has run, and libgomp reads it after
// that, so a setenv() here would be lost. When the machine is busy heed therefore executes
// itself again, once, with OMP_WAIT_POLICY=passive added: the new process starts from scratch,
// with the same pid, arguments and open files. Should that fail, heed runs on as it is.
void execute_again_with_passive_wait(char** argv, char** envp) {
  static char* environment[8192];
  size_t count = 0;
  while (envp != nullptr && envp[count] != nullptr) ++count;
  if (count + 3 > sizeof environment / sizeof environment[0]) return;
  for (size_t i = 0; i < count; ++i) environment[i] = envp[i];
  static char policy[] = "OMP_WAIT_POLICY=passive";
  static char marker[64];
  std::strcpy(marker, kChosenMarker);
  environment[count] = policy;
  environment[count + 1] = marker;
  environment[count + 2] = nullptr;
  ::execve("/proc/self/exe", argv, environment);
}

// The environment comes as envp: this early, libc has not set `environ` (getenv sees nothing).
void choose_wait_policy(int, char** argv, char** envp) {
  if (has_variable(envp, "HEED_OPENMP_WAIT=")) {
    g_description = "passive (other programs were running when heed started)";
    return;
  }
  if (has_variable(envp, "OMP_WAIT_POLICY=") || has_variable(envp, "GOMP_SPINCOUNT=")) {
    g_description = "as OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment sets it";
    return;
  }
  if (machine_is_busy()) execute_again_with_passive_wait(argv, envp);
  g_description = "active (the machine was idle when heed started)";
}

// Runs before the shared libraries' initialisers, libgomp's among them (ELF .preinit_array).
[[gnu::section(".preinit_array"), gnu::used]] void (*const g_choose_wait_policy)(int, char**, char**) = choose_wait_policy;

}  // namespace

const char* openmp_wait_policy_description() { return g_description; }

}  // namespace heed::app
