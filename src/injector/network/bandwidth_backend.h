// network_bandwidth: egress limited to a rate by a tbf (default) or htb root qdisc; scoped to
// CIDRs/ports/protocol through the same HTB + u32 tree netem uses (see qdisc_tree.h).
#pragma once

#include "injector/fault_backend.h"

namespace faultline::injector {

class BandwidthBackend : public FaultBackend {
 public:
  // With netem available, `backend: netem` uses netem's own rate limit.
  explicit BandwidthBackend(bool netem_available = false) : netem_(netem_available) {}
  std::string kind() const override { return "network_bandwidth"; }
  bool available() const override { return true; }
  std::vector<std::string> backends() const override {
    if (netem_) return {"tbf", "htb", "netem"};
    return {"tbf", "htb"};
  }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

 private:
  bool netem_;
};

}  // namespace faultline::injector
