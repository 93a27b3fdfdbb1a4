#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "common/interruptible_thread.h"
#include "injector/fault_backend.h"

namespace faultline::injector {

// interface_down: the scope's interface is set administratively down until revert.
// link_flap: down for flap_down_ms, up for flap_up_ms, again and again until revert.
// Revert (and crash recovery, from the spec alone) sets the interface up; an interface that
// was already down when the fault came is refused, so revert never raises one that was meant
// to be down.
class InterfaceDownBackend : public FaultBackend {
 public:
  explicit InterfaceDownBackend(bool flap);
  ~InterfaceDownBackend() override;
  std::string kind() const override { return flap_ ? "link_flap" : "interface_down"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

 private:
  const pb::InterfaceDown& params(const pb::FaultSpec& spec) const;
  void stop_flapper(const std::string& fault_id);

  bool flap_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<InterruptibleThread>> flappers_;
};

}  // namespace faultline::injector
