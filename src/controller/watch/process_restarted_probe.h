// Recovery check: the processes a fault hit have been replaced. On every node of the target,
// a process matching the selector must exist that is not one the faults touched (a different
// PID, or the same PID with a different start time).
#pragma once

#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "controller/link/injector_link.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

class ProcessRestartedProbe : public Probe {
 public:
  using ProcessKey = std::pair<int32_t, uint64_t>;  // pid, start time ticks

  ProcessRestartedProbe(std::string name, pb::ProcessSelector selector,
                        std::vector<std::shared_ptr<InjectorLink>> nodes,
                        std::set<ProcessKey> touched);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  pb::ProcessSelector selector_;
  std::vector<std::shared_ptr<InjectorLink>> nodes_;
  std::set<ProcessKey> touched_;
};

}  // namespace faultline::controller
