#pragma once

#include "injector/fault_backend.h"
#include "injector/process/process_selector.h"

namespace faultline::injector {

// Freezes processes with SIGSTOP and thaws them with SIGCONT on revert. Revert continues
// exactly the processes that were stopped (by PID and start time), so a target that died or
// was restarted meanwhile is skipped rather than a stranger being signalled.
class ProcessPauseBackend : public FaultBackend {
 public:
  explicit ProcessPauseBackend(SelectorGuard guard) : guard_(std::move(guard)) {}
  std::string kind() const override { return "process_pause"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;

 private:
  SelectorGuard guard_;
};

}  // namespace faultline::injector
