#include "controller/run/fault_translation.h"

#include "controller/plan/container_inventory.h"

namespace faultline::controller {
namespace {

v1::NetworkScope to_wire(const std::optional<experiments::NetworkScope>& scope) {
  v1::NetworkScope out;
  if (!scope) return out;
  out.set_netns(scope->netns);
  out.set_interface(scope->interface);
  for (const auto& d : scope->destinations) out.add_destinations(d);
  for (int p : scope->ports) out.add_ports(static_cast<uint32_t>(p));
  out.set_protocol(scope->protocol);
  out.set_direction(scope->direction);
  return out;
}

}  // namespace

v1::ProcessSelector selector_to_wire(const experiments::ProcessSelector& s) {
  v1::ProcessSelector out;
  out.set_name(s.name);
  out.set_pidfile(s.pidfile);
  out.set_cmdline_regex(s.cmdline);
  out.set_pid(s.pid);
  out.set_cgroup(s.cgroup);
  out.set_pid_namespace(s.pid_namespace);
  out.set_skip_if_empty(s.skip_if_empty);
  return out;
}

bool has_wire_form(const std::string& kind) {
  const auto* field = v1::FaultSpec::descriptor()->FindFieldByName(kind);
  return field && field->containing_oneof() && experiments::find_fault_kind(kind);
}

v1::FaultSpec to_wire(const experiments::FaultSpec& fault, const experiments::TargetSpec& target,
                      const std::string& chosen) {
  v1::FaultSpec out;
  // The target in its wire form once; each kind takes the parts it uses.
  v1::ProcessSelector selector =
      selector_to_wire(target.process.value_or(experiments::ProcessSelector{}));
  v1::NetworkScope scope = to_wire(target.network);
  // Inside a container or pod: each node's injector resolves it (containers/container_pinning).
  if (target.container) {
    *selector.mutable_container() = container_selector_to_wire(*target.container);
    *scope.mutable_container() = container_selector_to_wire(*target.container);
    if (!chosen.empty()) {
      selector.mutable_container()->add_ids(chosen);
      scope.mutable_container()->add_ids(chosen);
    }
  }
  const experiments::FaultKind* kind = experiments::find_fault_kind(fault.kind);
  if (kind && fault.params)
    kind->to_wire(*fault.params,
                  {selector, scope, target.paths, target.proxy ? &*target.proxy : nullptr}, out);
  return out;
}

}  // namespace faultline::controller
