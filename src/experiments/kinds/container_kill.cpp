#include "experiments/kinds/container_kill.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const ContainerKillParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* k = out.mutable_container_kill();
  *k->mutable_selector() = t.selector;
  k->set_grace_ms(millis(p.grace));
}

void check(const FaultSpec&, const TargetSpec* t, KindProblems& problems) {
  if (t && t->container && t->process)
    problems.error("target", "container_kill stops whole containers: target \"" + t->name +
                                 "\" narrows to some processes (use process_kill for those)");
}

FaultKind describe() {
  return {
      .name = "container_kill",
      .params = object({opt("grace", duration("Between the runtime's SIGTERM and its SIGKILL, as "
                                              "a stop with a grace period; 0s kills at once.",
                                              "10s"))},
                       "Stop the target containers through their runtime (the CRI or Docker), so "
                       "their restart policy or the kubelet brings them back. Nothing is "
                       "reverted: coming back is the system's job, which recovery checks watch."),
      .needs = TargetNeeds::kContainer,
      .scope = ScopeClass::kProcesses,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<ContainerKillParams>();
            p->grace = v.duration("grace");
            return p;
          },
      .check = check,
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
