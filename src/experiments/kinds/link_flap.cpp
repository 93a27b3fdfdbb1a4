#include "experiments/kinds/link_flap.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const LinkFlapParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_link_flap();
  *m->mutable_scope() = t.scope;
  m->set_flap_down_ms(millis(p.down));
  m->set_flap_up_ms(millis(p.up));
}

FaultKind describe() {
  return {
      .name = "link_flap",
      .params = object({req("down", duration("How long the link stays down each time.", "", true)),
                        req("up", duration("How long it stays up in between.", "", true))},
                       "Take the target's interface down and up on a schedule."),
      .needs = TargetNeeds::kInterface,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<LinkFlapParams>();
            p->down = v.duration("down");
            p->up = v.duration("up");
            return p;
          },
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
