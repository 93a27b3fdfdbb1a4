#include "experiments/kinds/network_loss.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const NetworkLossParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_network_loss();
  *m->mutable_scope() = t.scope;
  m->set_fraction(p.fraction);
  m->set_correlation(p.correlation);
  m->set_model(p.model);
  m->set_p(p.p);
  m->set_r(p.r);
  m->set_loss_bad(p.loss_bad);
  m->set_loss_good(p.loss_good);
  m->set_backend(p.backend);
}

FaultKind describe() {
  return {
      .name = "network_loss",
      .params =
          object({req("percent", percent("Share of packets dropped (random model).", "", false)),
                  correlation_prop(),
                  opt("model", enumeration({"random", "gilbert-elliott"},
                                           "Loss model: independent drops, or bursts.", "random")),
                  opt("p", percent("Gilbert-Elliott: chance to move from good to bad state.")),
                  opt("r", percent("Gilbert-Elliott: chance to move from bad to good state.")),
                  opt("loss_bad", percent("Gilbert-Elliott: loss in the bad state.", "100%")),
                  opt("loss_good", percent("Gilbert-Elliott: loss in the good state.", "0%")),
                  shaping_backend_prop()},
                 "Drop packets in the target's network scope."),
      .needs = TargetNeeds::kNetwork,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<NetworkLossParams>();
            p->fraction = v.fraction("percent");
            p->correlation = v.fraction("correlation");
            p->model = v.text("model");
            p->p = v.fraction("p");
            p->r = v.fraction("r");
            p->loss_bad = v.fraction("loss_bad");
            p->loss_good = v.fraction("loss_good");
            p->backend = v.text("backend");
            return p;
          },
      .to_wire = wire(&write),
      .mechanism = backend_of<NetworkLossParams>(),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
