#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "common/interruptible_thread.h"
#include "injector/fault_backend.h"
#include "injector/process/process_selector.h"

namespace faultline::injector {

// Sends a signal. A kill cannot be undone, so revert has nothing to take back; recovery is
// the system's job and the controller's recovery checks measure it. With an interval it is a
// crash loop: the selector is resolved and signalled again every interval until revert.
class ProcessKillBackend : public FaultBackend {
 public:
  explicit ProcessKillBackend(SelectorGuard guard);
  ~ProcessKillBackend() override;
  std::string kind() const override { return "process_kill"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;

 private:
  Result<std::string> signal_matching(const pb::ProcessKill& kill, pb::AppliedState* state);

  SelectorGuard guard_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<InterruptibleThread>> loops_;  // by fault id
};

}  // namespace faultline::injector
