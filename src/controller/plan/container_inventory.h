// Before a run on a container or pod target is planned, every candidate node's injector is
// asked which of its containers or pods match (ListContainers, through its runtime), so the
// plan can choose among all of them — the blast radius counts pods, not nodes — and show them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/link/injector_link.h"
#include "experiments/model.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::controller {

// What one node answered for one target: its matches, or why it could not list them.
struct NodeContainers {
  std::vector<pb::TouchedContainer> found;
  std::string error;
};

// target name -> node name -> answer.
using ContainerInventory = std::map<std::string, std::map<std::string, NodeContainers>>;

// The selector as the wire carries it.
pb::ContainerSelector container_selector_to_wire(const experiments::ContainerSelector& c);

// Asks every connected link whose node matches a container target's node selector, all at
// once (each answer bounded by its link's command timeout). Targets without a container or
// pod are left out.
ContainerInventory list_container_targets(const experiments::Experiment& experiment,
                                          const std::vector<std::shared_ptr<InjectorLink>>& links);

}  // namespace faultline::controller
