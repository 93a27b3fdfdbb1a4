// The guardrail watch: while faults are being injected, evaluates the experiment's abort_when
// probes on their own thread, each at its interval, and aborts the run when one has failed
// for its `for`. It journals each guardrail's changes (not every poll) and the breach.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "controller/run/run_context.h"
#include "controller/watch/probe_factory.h"
#include "experiments/model.h"

namespace faultline::controller {

class GuardrailWatch {
 public:
  // `guardrails` must outlive the watch.
  GuardrailWatch(RunContext& run, const std::vector<experiments::Guardrail>& guardrails,
                 ProbeContext probes);
  // Stops it, as stop() does.
  ~GuardrailWatch();
  GuardrailWatch(const GuardrailWatch&) = delete;
  GuardrailWatch& operator=(const GuardrailWatch&) = delete;

  // Starts watching on a thread of its own; the probes' initial delays run from here. A
  // watch with no guardrails starts no thread.
  void start();
  // Injection has ended: stops watching and waits for the thread. The watch also ends by
  // itself when the run is aborted, by a breach or otherwise.
  void stop();

 private:
  void watch();

  RunContext& run_;
  const std::vector<experiments::Guardrail>& guardrails_;
  ProbeContext probes_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace faultline::controller
