#include "controller/run/scope_claims.h"

namespace faultline::controller {
namespace {

std::string process_scope(const experiments::ProcessSelector& p) {
  std::string ns = p.pid_namespace.empty() ? "" : " pid_namespace=" + p.pid_namespace;
  if (!p.name.empty()) return "process name=" + p.name + ns;
  if (!p.cmdline.empty()) return "process cmdline=" + p.cmdline + ns;
  if (!p.pidfile.empty()) return "process pidfile=" + p.pidfile + ns;
  if (!p.cgroup.empty()) return "process cgroup=" + p.cgroup + ns;
  return "process pid=" + std::to_string(p.pid) + ns;
}

// "pod shop/name=checkout-1", "container labels=app=redis": what a container target names.
std::string container_scope(const experiments::ContainerSelector& c) {
  std::string out = c.pod ? "pod " + c.pod_namespace + "/" : "container ";
  auto add = [&out](const std::string& k, const std::string& v) {
    if (!v.empty()) out += " " + k + "=" + v;
  };
  auto labels = [](const std::map<std::string, std::string>& m) {
    std::string l;
    for (const auto& [k, v] : m) l += (l.empty() ? "" : ",") + k + "=" + v;
    return l;
  };
  if (c.pod) {
    add("name", c.pod_name);
    add("labels", labels(c.pod_labels));
    add("container", c.name);
  } else {
    add("name", c.name);
    add("id", c.id);
    add("image", c.image);
    add("labels", labels(c.labels));
  }
  return out;
}

// The scopes one fault holds on a node, by its kind's scope class. Network faults claim the
// whole namespace: two shapers on one namespace interact even on different interfaces
// (shared qdisc trees, nfqueue numbers, the same packets on their way in and out).
std::vector<std::string> scopes(const experiments::FaultSpec& f, const experiments::TargetSpec* t) {
  using experiments::ScopeClass;
  const experiments::FaultKind* kind = experiments::find_fault_kind(f.kind);
  if (!kind) return {"kind " + f.kind};
  switch (kind->scope) {
    case ScopeClass::kProcesses:
      if (t && t->container)
        return {(t->process ? process_scope(*t->process) + " in " : "processes in ") +
                container_scope(*t->container)};
      if (t && t->process) return {process_scope(*t->process)};
      break;
    case ScopeClass::kNetworkNamespace: {
      if (t && t->container) return {"network of " + container_scope(*t->container)};
      std::string ns = t && t->network && !t->network->netns.empty() ? t->network->netns : "host";
      return {"network netns=" + ns};
    }
    // In a container the stress is charged to (and limited by) the container's cgroup.
    case ScopeClass::kHostCpu:
      return {t && t->container ? "cpu of " + container_scope(*t->container) : "host cpu"};
    case ScopeClass::kHostMemory:
      return {t && t->container ? "memory of " + container_scope(*t->container) : "host memory"};
    case ScopeClass::kClock:
      return {t && t->process ? "clock of " + process_scope(*t->process) : "host clock"};
    case ScopeClass::kPaths: {
      std::vector<std::string> out;
      if (t)
        for (const auto& p : t->paths)
          out.push_back("path " + p +
                        (t->container ? " in " + container_scope(*t->container) : ""));
      if (!out.empty()) return out;
      break;
    }
    case ScopeClass::kProxy:
      if (t && t->proxy) return {"proxy " + t->proxy->name + " at " + t->proxy->api};
      break;
    case ScopeClass::kUnset:
      break;  // the consistency test keeps this from shipping; claim the kind as a whole
  }
  return {"kind " + f.kind};
}

}  // namespace

std::vector<ScopeClaim> claims_of(const experiments::Experiment& e, const Plan& plan) {
  std::vector<ScopeClaim> out;
  for (const auto& pf : plan.faults) {
    const auto& f = e.faults[pf.window.fault_index];
    const experiments::TargetSpec* target = nullptr;
    for (const auto& t : e.targets)
      if (t.name == f.target) target = &t;
    for (const auto& node : pf.nodes)
      for (auto& s : scopes(f, target)) out.push_back({node, s, f.name});
  }
  return out;
}

std::optional<ScopeClaims::Holder> ScopeClaims::conflict(
    const std::vector<ScopeClaim>& wanted) const {
  std::lock_guard lock(mu_);
  for (const auto& [run_id, held] : held_)
    for (const auto& have : held.claims)
      for (const auto& want : wanted)
        if (have.node == want.node && have.scope == want.scope)
          return Holder{run_id, held.experiment, have};
  return std::nullopt;
}

void ScopeClaims::hold(const std::string& run_id, const std::string& experiment,
                       std::vector<ScopeClaim> claims) {
  std::lock_guard lock(mu_);
  held_[run_id] = Held{experiment, std::move(claims)};
}

void ScopeClaims::release(const std::string& run_id) {
  std::lock_guard lock(mu_);
  held_.erase(run_id);
}

std::string describe(const ScopeClaims::Holder& h) {
  return "run " + h.run_id + " (experiment \"" + h.experiment + "\") holds " + h.claim.node + " " +
         h.claim.scope + " for its fault \"" + h.claim.fault + "\"";
}

}  // namespace faultline::controller
