#include "experiments/kinds/network_delay.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const NetworkDelayParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_network_delay();
  *m->mutable_scope() = t.scope;
  m->set_delay_us(micros(p.delay));
  m->set_jitter_us(micros(p.jitter));
  m->set_correlation(p.correlation);
  m->set_distribution(p.distribution);
  m->set_backend(p.backend);
}

FaultKind describe() {
  return {
      .name = "network_delay",
      .params =
          object({req("delay", duration("Added one-way delay.", "", false, 60)),
                  opt("jitter", duration("Random variation around the delay.", "0s", false, 60)),
                  correlation_prop(),
                  opt("distribution", enumeration({"uniform", "normal", "pareto", "paretonormal"},
                                                  "Shape of the jitter.", "uniform")),
                  shaping_backend_prop()},
                 "Delay packets in the target's network scope."),
      .needs = TargetNeeds::kNetwork,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<NetworkDelayParams>();
            p->delay = v.duration("delay");
            p->jitter = v.duration("jitter");
            p->correlation = v.fraction("correlation");
            p->distribution = v.text("distribution");
            p->backend = v.text("backend");
            return p;
          },
      .to_wire = wire(&write),
      .mechanism = backend_of<NetworkDelayParams>(),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
