// Recovery check: the containers or pods a fault hit run again. For each one the faults hit,
// its node must now show, among the target's matches: the same pod (by uid) with a new sandbox,
// or a container of the same name in it that is new (another id) or was restarted (a higher
// restart count). Other pods that merely match the selector do not count: they were never hit.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "controller/link/injector_link.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

// What a fault hit, and on which node.
struct TouchedOnNode {
  std::string node;
  pb::TouchedContainer container;
};

class ContainerRestartedProbe : public Probe {
 public:
  ContainerRestartedProbe(std::string name, pb::ContainerSelector selector,
                          std::vector<std::shared_ptr<InjectorLink>> nodes,
                          std::vector<TouchedOnNode> touched);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  pb::ContainerSelector selector_;
  std::vector<std::shared_ptr<InjectorLink>> nodes_;
  std::vector<TouchedOnNode> touched_;
};

// Whether `now` shows `hit` running again (see above); `why` says what was seen.
bool runs_again(const pb::TouchedContainer& hit, const std::vector<pb::TouchedContainer>& now,
                std::string& why);

}  // namespace faultline::controller
