// The seam between the fault engine and the code that touches the kernel. A backend knows
// one fault kind; it never knows about experiments, runs or the controller.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

// What a backend installed, recorded so that revert works from this record alone (the
// target may have died or restarted since).
struct AppliedFault {
  std::string fault_id;
  pb::FaultSpec spec;
  pb::AppliedState state;
};

class FaultBackend {
 public:
  virtual ~FaultBackend() = default;

  // The capability name this backend provides, e.g. "process_kill".
  virtual std::string kind() const = 0;

  // Whether this backend works on this host (kernel features, privileges).
  virtual bool available() const = 0;

  // Mechanisms this host offers for the kind (e.g. "netem", "nfqueue"), reported as
  // capabilities "<kind>:<mechanism>" so the planner can check an experiment that names one.
  virtual std::vector<std::string> backends() const { return {}; }

  // `fault_id` is unique per injector; a backend may name what it creates after it, so that
  // recover_intent() can find it again from the id alone.
  virtual Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) = 0;

  // Must be idempotent: reverting twice, or reverting a fault whose target is gone, succeeds.
  virtual Status revert(const AppliedFault& fault) = 0;

  // What the fault achieved over its lifetime, measured just before it is reverted, for the
  // run's journal ("CPU load 49% per worker"); "" when there is nothing to add.
  virtual std::string achieved(const AppliedFault& fault) { return ""; }

  // After a crash between the start of apply() and the ledger recording its result: take
  // back whatever apply() may have done, knowing only the id and the spec.
  virtual Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
    return Ok{};
  }
};

}  // namespace faultline::injector
