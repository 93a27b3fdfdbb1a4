#include "experiments/kinds/packet_mangle.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {

using namespace schema_builders;
using namespace kind_parts;

FaultKind packet_mangle_kind(std::string name, std::string percent_doc, std::string doc,
                             v1::NetworkPacketMangle* (*field)(v1::FaultSpec&)) {
  return {
      .name = std::move(name),
      .params = object({req("percent", percent(std::move(percent_doc))), correlation_prop(),
                        shaping_backend_prop()},
                       std::move(doc)),
      .needs = TargetNeeds::kNetwork,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<PacketMangleParams>();
            p->fraction = v.fraction("percent");
            p->correlation = v.fraction("correlation");
            p->backend = v.text("backend");
            return p;
          },
      .to_wire =
          [field](const KindParams& kp, const WireTarget& t, v1::FaultSpec& out) {
            const auto& p = static_cast<const PacketMangleParams&>(kp);
            v1::NetworkPacketMangle* m = field(out);
            *m->mutable_scope() = t.scope;
            m->set_fraction(p.fraction);
            m->set_correlation(p.correlation);
            m->set_backend(p.backend);
          },
      .mechanism = backend_of<PacketMangleParams>(),
  };
}

}  // namespace faultline::experiments
