#pragma once

#include "injector/fault_backend.h"
#include "injector/process/process_selector.h"

namespace faultline::injector {

// Shifts the wall clock a target sees. The target must have been started with
// `faultline exec`, which runs it on libfaketime steered by a control file named in its
// environment; this backend writes the offset there and writes "+0" back on revert. Only
// the realtime clock is shifted (monotonic time is left alone, as most code expects).
class ClockSkewBackend : public FaultBackend {
 public:
  explicit ClockSkewBackend(SelectorGuard guard) : guard_(std::move(guard)) {}
  std::string kind() const override { return "clock_skew"; }
  bool available() const override;
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

 private:
  SelectorGuard guard_;
};

// "+5m", "-90s", "+1500ms" as libfaketime reads an offset (seconds, fractional allowed).
std::string faketime_offset(int64_t offset_ms);

}  // namespace faultline::injector
