// Builds a probe from its spec. What a probe needs beyond its spec (the trace SLI store, the
// injectors of a target) comes from the run through the context.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/link/injector_link.h"
#include "controller/policy/destination_guard.h"
#include "controller/watch/command_probe.h"
#include "controller/watch/probe.h"
#include "controller/watch/traces/sli_store.h"
#include "controller/watch/traces/span_poller.h"

namespace faultline::controller {

struct ProbeContext {
  // Where network probes may connect; each connection goes to an address it checked. Null:
  // anywhere (the CLI's own runs).
  std::shared_ptr<const DestinationGuard> destinations;
  SliStore* traces = nullptr;      // null: the controller has no OTLP receiver
  PolledTraces* polled = nullptr;  // the run's Jaeger/Zipkin sources
  // The injectors of a target's nodes, and its process selector (for process probes).
  std::function<std::vector<std::shared_ptr<InjectorLink>>(const std::string&)> nodes_of;
  std::function<pb::ProcessSelector(const std::string&)> selector_of;
  // A container or pod target's selector (for container_restarted and pod-addressed probes).
  std::function<pb::ContainerSelector(const std::string&)> container_of;
  // The injectors of every node whose pods were searched for a container or pod target (not
  // only the nodes of the chosen ones): a probe of "each pod" asks them all.
  std::function<std::vector<std::shared_ptr<InjectorLink>>(const std::string&)> pod_nodes_of;
  // Where command probes, checks and rollbacks run (null: here).
  std::shared_ptr<const CommandPlacement> commands;
};

// Never null: a probe that cannot be built fails every run with the reason.
std::unique_ptr<Probe> make_probe(const experiments::ProbeSpec& spec, const ProbeContext& ctx);

}  // namespace faultline::controller
