// The seam between the fault engine and the code that touches the kernel. A backend knows
// one fault kind; it never knows about experiments, runs or the controller.
#pragma once

#include <string>

#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

// What a backend installed, recorded so that revert works from this record alone (the
// target may have died or restarted since).
struct AppliedFault {
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

  virtual Result<AppliedFault> apply(const pb::FaultSpec& spec) = 0;

  // Must be idempotent: reverting twice, or reverting a fault whose target is gone, succeeds.
  virtual Status revert(const AppliedFault& fault) = 0;
};

}  // namespace faultline::injector
