#pragma once

#include <memory>
#include <vector>

#include "controller/link/injector_link.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

// A process matching the selector is alive on every node, asked of each node's injector.
class ProcessAliveProbe : public Probe {
 public:
  ProcessAliveProbe(std::string name, pb::ProcessSelector selector,
                    std::vector<std::shared_ptr<InjectorLink>> nodes);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  pb::ProcessSelector selector_;
  std::vector<std::shared_ptr<InjectorLink>> nodes_;
};

}  // namespace faultline::controller
