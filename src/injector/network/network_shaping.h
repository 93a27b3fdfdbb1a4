// Delay, loss, duplicate, corrupt and reorder on one interface, through netem (kernel) or the
// nfqueue engine (user space). Faults on exactly the same traffic compose into one set of
// impairments (delay + loss on a link is the common case, and what a single netem qdisc does);
// a fault on different traffic through an interface that is already shaped is refused, naming
// the fault that holds it, because two shapers on one interface would silently override each
// other.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "injector/fault_backend.h"
#include "injector/network/impairment.h"
#include "injector/network/nfqueue_engine.h"

namespace faultline::injector {

class ShapingRegistry {
 public:
  // Probes once whether this kernel has sch_netem.
  ShapingRegistry();
  explicit ShapingRegistry(bool netem_available) : netem_(netem_available) {}

  bool netem_available() const { return netem_; }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec);
  Status revert(const AppliedFault& fault);
  // The nfqueue engine's packet counts for the fault's traffic so far ("" for netem).
  std::string achieved(const AppliedFault& fault);
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec);

 private:
  struct Part {
    std::string kind;
    ImpairmentSpec spec;
  };
  struct Group {
    std::string owner;  // the fault that created it; its chains are named after it
    std::string backend;
    pb::NetworkScope scope;
    std::string ifname;
    pb::NetworkInstall install;
    bool qdisc_scoped = false;  // netem sits under an HTB class, not at the root
    std::unique_ptr<NfqueueEngine> engine;
    std::map<std::string, Part> parts;  // by fault id
  };

  Result<ImpairmentSpec> merged(const Group& g) const;
  Status install(Group& g, const ImpairmentSpec& spec, const std::string& fault_id);
  Status update(Group& g);

  bool netem_;
  std::mutex mu_;
  std::map<std::string, Group> groups_;  // by "<netns inode>/<interface>"
};

// One shaping kind (network_delay, network_loss, ...), all sharing one registry.
class ShapingBackend : public FaultBackend {
 public:
  ShapingBackend(std::string kind, std::shared_ptr<ShapingRegistry> registry)
      : kind_(std::move(kind)), registry_(std::move(registry)) {}
  std::string kind() const override { return kind_; }
  bool available() const override { return true; }
  std::vector<std::string> backends() const override;
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override {
    return registry_->apply(fault_id, spec);
  }
  Status revert(const AppliedFault& fault) override { return registry_->revert(fault); }
  std::string achieved(const AppliedFault& fault) override { return registry_->achieved(fault); }
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override {
    return registry_->recover_intent(fault_id, spec);
  }

 private:
  std::string kind_;
  std::shared_ptr<ShapingRegistry> registry_;
};

}  // namespace faultline::injector
