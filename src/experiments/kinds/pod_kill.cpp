#include "experiments/kinds/fault_kind.h"
#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

struct PodKillParams : KindParams {};

void write(const PodKillParams&, const WireTarget& t, v1::FaultSpec& out) {
  *out.mutable_pod_kill()->mutable_selector() = t.selector;
}

void check(const FaultSpec&, const TargetSpec* t, KindProblems& problems) {
  if (t && t->container && !t->container->pod)
    problems.error("target", "pod_kill stops pods: target \"" + t->name +
                                 "\" is a container (use container_kill, or select with pod:)");
  if (t && t->container && t->container->pod && !t->container->name.empty())
    problems.error("target", "pod_kill stops the whole pod: target \"" + t->name +
                                 "\" names one container of it (use container_kill for that)");
  if (t && t->container && t->process)
    problems.error("target", "pod_kill stops whole pods: target \"" + t->name +
                                 "\" narrows to some processes (use process_kill for those)");
}

FaultKind describe() {
  return {
      .name = "pod_kill",
      .params = object({},
                       "Stop the target pods' sandboxes through the CRI: every container and "
                       "the pod's network go, as when a node loses one pod. The pod's owner "
                       "(a ReplicaSet, through the kubelet) brings it back; nothing is "
                       "reverted."),
      .needs = TargetNeeds::kContainer,
      .scope = ScopeClass::kProcesses,
      .containers = works_on_containers(),
      .read = [](const ParamValues&, KindProblems&) { return std::make_shared<PodKillParams>(); },
      .check = check,
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
