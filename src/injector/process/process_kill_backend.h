#pragma once

#include "injector/fault_backend.h"
#include "injector/process/process_selector.h"

namespace faultline::injector {

// Sends one signal. A kill cannot be undone, so revert has nothing to do; recovery is the
// system's job and the controller's recovery checks measure it.
class ProcessKillBackend : public FaultBackend {
 public:
  explicit ProcessKillBackend(SelectorGuard guard) : guard_(std::move(guard)) {}
  std::string kind() const override { return "process_kill"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;

 private:
  SelectorGuard guard_;
};

}  // namespace faultline::injector
