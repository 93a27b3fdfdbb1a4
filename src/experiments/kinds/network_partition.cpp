#include "experiments/kinds/network_partition.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const NetworkPartitionParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_network_partition();
  *m->mutable_scope() = t.scope;
  m->set_direction(p.direction);
}

FaultKind describe() {
  return {
      .name = "network_partition",
      .params = object({opt("direction", enumeration({"egress", "ingress", "both"},
                                                     "Which direction is cut.", "both"))},
                       "Drop all traffic in the target's network scope (a blackhole)."),
      .needs = TargetNeeds::kNetwork,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<NetworkPartitionParams>();
            p->direction = v.text("direction");
            return p;
          },
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
