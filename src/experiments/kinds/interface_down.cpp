// interface_down: take the target's network interface down for the fault's duration.
#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

struct InterfaceDownParams : KindParams {};

FaultKind describe() {
  return {
      .name = "interface_down",
      .params = object({}, "Take the target's network interface down for the duration."),
      .needs = TargetNeeds::kInterface,
      .scope = ScopeClass::kNetworkNamespace,
      .containers = works_on_containers(),
      .read = [](const ParamValues&,
                 KindProblems&) { return std::make_shared<InterfaceDownParams>(); },
      .to_wire =
          [](const KindParams&, const WireTarget& t, v1::FaultSpec& out) {
            *out.mutable_interface_down()->mutable_scope() = t.scope;
          },
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
