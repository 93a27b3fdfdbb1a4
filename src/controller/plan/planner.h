// Turns an experiment into a plan: which nodes each target hits and when each fault runs on
// them. `faultline plan` prints it; the run engine executes exactly it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "controller/link/injector_link.h"
#include "controller/plan/container_inventory.h"
#include "experiments/model.h"
#include "experiments/timeline.h"

namespace faultline::controller {

struct TargetPlacement {
  std::vector<std::string> nodes;   // chosen node names, sorted
  std::string why;                  // "1 of 3 matching nodes (mode one, seed 42)"
  std::vector<std::string> spared;  // matched the selector but not chosen, sorted
  // Container and pod targets: node -> the chosen ones there; each gets its own fault.
  std::map<std::string, std::vector<pb::TouchedContainer>> containers;
  // Container and pod targets: every node whose containers were listed (chosen or not).
  std::vector<std::string> searched;
};

struct PlannedFault {
  experiments::FaultWindow window;
  std::vector<std::string> nodes;
};

struct Plan {
  uint32_t seed = 0;
  std::map<std::string, TargetPlacement> targets;
  std::vector<PlannedFault> faults;  // sorted by start
  Duration total{};
  std::vector<std::string> notes;  // things the plan cannot do and says so
  // fault name -> node -> the mechanism that applies it there ("netem", "nfqueue", "tbf").
  std::map<std::string, std::map<std::string, std::string>> mechanisms;
};

// `injectors` are the nodes that can be used now. A fault whose kind a chosen node cannot do
// fails the plan with a message naming the fault, the node and what it can do. Container and
// pod targets are placed on what `containers` says each node has (list_container_targets);
// without it, on nodes as other targets are, each node's injector resolving the selector.
Result<Plan> make_plan(const experiments::Experiment& experiment,
                       const std::vector<InjectorInfo>& injectors,
                       std::optional<uint32_t> seed = std::nullopt,
                       const ContainerInventory* containers = nullptr);

// "shop/checkout-0 (10.1.2.3)" or "redis (3f2a9c1b0d4e)": a chosen container as plans show it.
std::string container_label(const pb::TouchedContainer& c);

// Names the first probe, check or guardrail that reads spans from the OTLP receiver
// ("guardrail \"x\""); "" if none does (Jaeger/Zipkin sources are polled instead).
std::string first_trace_sli(const experiments::Experiment& e);

// The plan as people read it, with the timeline.
std::string format_plan(const experiments::Experiment& experiment, const Plan& plan);

}  // namespace faultline::controller
