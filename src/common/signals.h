// Turns SIGINT/SIGTERM into an ordinary callback on a dedicated thread, so shutdown code
// (reverting faults, aborting runs) runs with locks and allocation allowed.
#pragma once

#include <csignal>
#include <functional>
#include <thread>

namespace faultline {

class ShutdownSignals {
 public:
  // Must be constructed before any other thread starts, so every thread inherits the mask.
  // The callback runs for each SIGINT/SIGTERM/SIGHUP received, with the signal number.
  explicit ShutdownSignals(std::function<void(int)> on_signal);
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

 private:
  sigset_t set_{};
  std::thread thread_;
};

}  // namespace faultline
