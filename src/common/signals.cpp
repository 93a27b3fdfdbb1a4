#include "common/signals.h"

#include <pthread.h>

namespace faultline {

namespace {
// Sent to ourselves to wake the waiting thread at destruction; never delivered elsewhere.
constexpr int kWakeSignal = SIGUSR2;
}  // namespace

ShutdownSignals::ShutdownSignals(std::function<void(int)> on_signal) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGHUP);
  sigaddset(&set_, kWakeSignal);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  thread_ = std::thread([this, cb = std::move(on_signal)] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0) continue;
      if (sig == kWakeSignal) return;
      cb(sig);
    }
  });
}

ShutdownSignals::~ShutdownSignals() {
  pthread_kill(thread_.native_handle(), kWakeSignal);
  thread_.join();
}

}  // namespace faultline
