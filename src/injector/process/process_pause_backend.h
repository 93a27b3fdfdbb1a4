#pragma once

#include "injector/fault_backend.h"
#include "injector/process/process_selector.h"

namespace faultline::injector {

// Freezes processes with SIGSTOP and thaws them with SIGCONT on revert, or freezes a whole
// cgroup with the freezer (method "freezer"). Revert continues
// exactly the processes that were stopped (by PID and start time), so a target that died or
// was restarted meanwhile is skipped rather than a stranger being signalled.
class ProcessPauseBackend : public FaultBackend {
 public:
  explicit ProcessPauseBackend(SelectorGuard guard) : guard_(std::move(guard)) {}
  std::string kind() const override { return "process_pause"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  // Continues every stopped process the selector matches: the crash came before the
  // ledger learned exactly which ones were stopped.
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

 private:
  Result<AppliedFault> freeze_cgroup(const std::string& fault_id, const pb::FaultSpec& spec);

  SelectorGuard guard_;
};

}  // namespace faultline::injector
