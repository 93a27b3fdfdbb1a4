#include "experiments/kinds/network_reorder.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const NetworkReorderParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_network_reorder();
  *m->mutable_scope() = t.scope;
  m->set_fraction(p.fraction);
  m->set_correlation(p.correlation);
  m->set_backend(p.backend);
  m->set_delay_us(micros(p.delay));
  m->set_gap(static_cast<uint32_t>(p.gap));
}

FaultKind describe() {
  return {
      .name = "network_reorder",
      .params = object(
          {req("percent", percent("Share of packets sent at once, ahead of delayed ones.")),
           correlation_prop(),
           req("delay", duration("Delay of the packets that are not reordered.", "", true, 60)),
           opt("gap", integer("Reorder every gap-th packet.", 1, 1000000)), shaping_backend_prop()},
          "Reorder packets."),
      .needs = TargetNeeds::kNetwork,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<NetworkReorderParams>();
            p->fraction = v.fraction("percent");
            p->correlation = v.fraction("correlation");
            p->delay = v.duration("delay");
            p->gap = static_cast<int>(v.integer("gap"));
            p->backend = v.text("backend");
            return p;
          },
      .to_wire = wire(&write),
      .mechanism = backend_of<NetworkReorderParams>(),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
