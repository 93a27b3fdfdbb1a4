#include "experiments/kinds/network_bandwidth.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const NetworkBandwidthParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_network_bandwidth();
  *m->mutable_scope() = t.scope;
  m->set_rate_bps(p.rate_bps);
  m->set_burst_bytes(p.burst_bytes);
  m->set_limit_bytes(p.limit_bytes);
  m->set_backend(p.backend);
}

FaultKind describe() {
  return {
      .name = "network_bandwidth",
      .params =
          object({req("rate", rate("Rate limit.")), opt("burst", size("Bucket size.", "32KiB")),
                  opt("limit", size("Queue size before dropping.", "64KiB")),
                  backend_prop({"tbf", "htb", "netem"}, "tbf")},
                 "Throttle the target interface."),
      .needs = TargetNeeds::kInterface,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<NetworkBandwidthParams>();
            p->rate_bps = v.bytes("rate");
            p->burst_bytes = v.bytes("burst");
            p->limit_bytes = v.bytes("limit");
            p->backend = v.text("backend");
            return p;
          },
      .to_wire = wire(&write),
      .mechanism = backend_of<NetworkBandwidthParams>(),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
