#include "heed/train/stop_signal.h"

#include <csignal>

#include <atomic>

#include "heed/core/file_io.h"

namespace heed {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int signal) {
  if (g_stop.exchange(true)) {
    // Asked twice: stop now, the default way, without leaving a half-written save behind.
    remove_unfinished_save();
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
  g_signal.store(signal);
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }
int stop_signal_number() { return g_signal.load(); }
void request_stop() { g_stop.store(true); }
void clear_stop_request() {
  g_stop.store(false);
  g_signal.store(0);
}

}  // namespace heed
