// network_partition: traffic in scope is dropped (a blackhole), in one or both directions,
// through DROP rules in faultline's own filter-table chains. Loopback is never cut.
#pragma once

#include "injector/fault_backend.h"

namespace faultline::injector {

class PartitionBackend : public FaultBackend {
 public:
  std::string kind() const override { return "network_partition"; }
  bool available() const override;
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;
};

}  // namespace faultline::injector
