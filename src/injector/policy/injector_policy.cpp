// Judging one fault against the injector policy. Every check fails closed: what a rule
// cannot see (a kind this file does not know, an interface it cannot name) is refused.
#include "injector/policy/injector_policy.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "injector/backend_registry.h"
#include "injector/containers/container_runtime.h"
#include "injector/fault_kind_name.h"
#include "injector/network/netns.h"
#include "injector/network/rtnl.h"
#include "injector/process/process_selector.h"

namespace faultline::injector {
namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

bool glob(const std::string& pattern, const std::string& text, int flags = 0) {
  return ::fnmatch(pattern.c_str(), text.c_str(), flags) == 0;
}

bool any_glob(const std::vector<std::string>& patterns, const std::string& text, int flags = 0) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return glob(p, text, flags); });
}

std::string basename_of_argv0(const std::string& cmdline) {
  std::string argv0 = cmdline.substr(0, cmdline.find(' '));
  size_t slash = argv0.rfind('/');
  return slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
}

// Every cgroup path of the process, one per hierarchy ("0::/system.slice/x.service").
std::vector<std::string> cgroups_of(pid_t pid) {
  std::vector<std::string> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  for (std::string line; std::getline(in, line);) {
    size_t second = line.find(':', line.find(':') + 1);
    if (second != std::string::npos) out.push_back(line.substr(second + 1));
  }
  return out;
}

bool rule_matches(const ProcessRule& r, const ProcessInfo& p) {
  if (!r.name.empty() && !glob(r.name, p.comm) && !glob(r.name, basename_of_argv0(p.cmdline)))
    return false;
  // Anchored at the start: "^/usr/bin/python3 app.py" must not match "sh -c '... app.py'".
  if (r.cmdline_re &&
      !std::regex_search(p.cmdline, *r.cmdline_re, std::regex_constants::match_continuous))
    return false;
  if (!r.cgroup.empty()) {
    auto paths = cgroups_of(p.pid);
    if (std::none_of(paths.begin(), paths.end(),
                     [&](const std::string& c) { return glob(r.cgroup, c); }))
      return false;
  }
  return true;
}

// A selector that can only ever match processes a rule allows, because the rule tests the
// very field the selector selects by: name for name, cgroup for cgroup.
bool selector_allowed_by_itself(const ProcessRule& r, const pb::ProcessSelector& s) {
  if (!r.cmdline.empty()) return false;
  if (!s.name().empty() && r.cgroup.empty() && !r.name.empty()) return glob(r.name, s.name());
  if (!s.cgroup().empty() && r.name.empty() && !r.cgroup.empty()) return glob(r.cgroup, s.cgroup());
  return false;
}

// The forms a namespace may be written in, so "/run/netns/*", "/var/run/netns/*" and "lab-*"
// all match `ip netns` namespace lab-a.
std::vector<std::string> netns_forms(const std::string& netns) {
  std::string path = netns_path(netns);
  std::vector<std::string> forms{netns, path};
  for (const std::string dir : {"/var/run/netns/", "/run/netns/"})
    if (path.rfind(dir, 0) == 0) {
      forms.push_back("/run/netns/" + path.substr(dir.size()));
      forms.push_back("/var/run/netns/" + path.substr(dir.size()));
      forms.push_back(path.substr(dir.size()));
    }
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (!ec) forms.push_back(canonical.string());
  return forms;
}

std::string allowed_list(const std::vector<std::string>& items) {
  return items.empty() ? "none" : join(items);
}

}  // namespace

std::string ProcessRule::describe() const {
  std::vector<std::string> parts;
  if (!name.empty()) parts.push_back("name=" + name);
  if (!cmdline.empty()) parts.push_back("cmdline=" + cmdline);
  if (!cgroup.empty()) parts.push_back("cgroup=" + cgroup);
  return join(parts, " ");
}

bool ContainerRule::matches(const pb::TouchedContainer& c) const {
  auto match = [](const std::string& pattern, const std::string& value) {
    return pattern.empty() || glob(pattern, value);
  };
  if (!runtime.empty() && runtime != c.runtime()) return false;
  if (!match(namespace_, c.pod_namespace()) || !match(pod, c.pod_name()) ||
      !match(image, c.image()))
    return false;
  if (!name.empty()) {
    // Every container of it the fault reaches must have an allowed name.
    if (c.members().empty()) return glob(name, c.name());
    for (const auto& m : c.members())
      if (!glob(name, m.name())) return false;
  }
  for (const auto& [k, v] : labels) {
    auto it = c.labels().find(k);
    if (it == c.labels().end() || it->second != v) return false;
  }
  return true;
}

std::string ContainerRule::describe() const {
  std::vector<std::string> parts;
  if (!runtime.empty()) parts.push_back("runtime=" + runtime);
  if (!namespace_.empty()) parts.push_back("namespace=" + namespace_);
  if (!pod.empty()) parts.push_back("pod=" + pod);
  if (!name.empty()) parts.push_back("name=" + name);
  if (!image.empty()) parts.push_back("image=" + image);
  for (const auto& [k, v] : labels) parts.push_back("label " + k + "=" + v);
  return join(parts, " ");
}

Status InjectorPolicy::check(const pb::FaultSpec& spec,
                             const std::vector<pb::TouchedContainer>& containers) const {
  std::string why = refusal(spec, containers);
  if (why.empty()) return Ok{};
  return make_error(ErrorCode::kPermissionDenied,
                    "refused by injector policy (" + source_ + "): " + why);
}

std::string InjectorPolicy::check_containers(
    const std::string& kind, const std::vector<pb::TouchedContainer>& containers) const {
  if (!containers_ || containers_->empty())
    return kind +
           " touches containers or pods, and the policy allows none (no "
           "allow.containers)";
  std::vector<std::string> rules;
  for (const auto& r : *containers_) rules.push_back(r.describe());
  for (const auto& c : containers) {
    bool ok = std::any_of(containers_->begin(), containers_->end(),
                          [&](const ContainerRule& r) { return r.matches(c); });
    if (!ok)
      return kind + " would touch " + describe_touched(c) +
             ", which no containers rule allows (rules: " + join(rules, "; ") + ")";
  }
  return "";
}

std::string InjectorPolicy::refusal(const pb::FaultSpec& spec,
                                    const std::vector<pb::TouchedContainer>& containers) const {
  std::string kind = fault_kind_name(spec);
  if (kind.empty()) return "the fault names no kind";
  if (std::find(kinds_.begin(), kinds_.end(), kind) == kinds_.end())
    return "kind " + kind + " is not allowed (allowed: " + allowed_list(kinds_) + ")";
  // The backend's registration says what the fault touches; a kind whose backend says
  // nothing (or that has none) is refused rather than guessed at.
  const BackendRegistration* backend = find_backend_registration(kind);
  FaultReach reach = backend && backend->reach ? backend->reach(spec) : FaultReach{};
  if (reach.empty() && !reach.node_wide)
    return "kind " + kind + " has no policy rules in this injector build";
  if (!containers.empty())
    if (std::string why = check_containers(kind, containers); !why.empty()) return why;
  // What is inside an allowed container (its processes, namespace, files) is allowed with it;
  // a selector that names a container but matched none on this node touches nothing.
  for (const auto& p : reach.processes)
    if (!p.selector.has_container())
      if (std::string why = check_processes(kind, p.selector, p.chosen_later); !why.empty())
        return why;
  for (const auto& scope : reach.networks)
    if (!scope.has_container())
      if (std::string why = check_network(kind, scope); !why.empty()) return why;
  for (const auto& path : reach.paths)
    if (std::string why = check_path(kind, path); !why.empty()) return why;
  // node-wide kinds (cpu, memory) and proxies (unprivileged, on loopback): the kind is the
  // whole rule
  return "";
}

std::string InjectorPolicy::check_processes(const std::string& kind,
                                            const pb::ProcessSelector& selector,
                                            const std::string& chosen_later) const {
  if (!processes_ || processes_->empty())
    return kind + " touches processes, and the policy allows none (no allow.processes)";
  std::vector<std::string> rules;
  for (const auto& r : *processes_) rules.push_back(r.describe());
  if (!chosen_later.empty()) {
    // What matches now says nothing about what matches later: the selector itself must be
    // one no rule-breaking process can ever match.
    for (const auto& r : *processes_)
      if (selector_allowed_by_itself(r, selector)) return "";
    return kind + " selector " + describe(selector) + " is not allowed: " + chosen_later +
           ", so it must select by a name or cgroup that one processes rule allows by "
           "itself (rules: " +
           join(rules, "; ") + ")";
  }
  // Every process the selector matches, not only the one `mode` would pick: a refusal must
  // not depend on a random draw.
  pb::ProcessSelection all;
  all.set_mode(pb::PROCESS_MODE_ALL);
  auto found = resolve_processes(selector, all, SelectorGuard::for_this_process());
  // Nothing to touch (or a selector the guard rails refuse): the backend fails the same way
  // when it resolves, with its own, more precise message.
  if (!found) return "";
  for (const auto& p : *found) {
    bool ok = std::any_of(processes_->begin(), processes_->end(),
                          [&](const ProcessRule& r) { return rule_matches(r, p); });
    if (!ok)
      return kind + " would touch pid " + std::to_string(p.pid) + " (" + p.comm + ", cmdline \"" +
             p.cmdline + "\"), which no processes rule allows (rules: " + join(rules, "; ") + ")";
  }
  return "";
}

std::string InjectorPolicy::check_network(const std::string& kind,
                                          const pb::NetworkScope& scope) const {
  const std::string& ns = scope.netns();
  if (ns.empty()) {
    if (network_namespaces_ && std::find(network_namespaces_->begin(), network_namespaces_->end(),
                                         "self") == network_namespaces_->end())
      return "network namespace (the injector's own) is not allowed (allowed: " +
             allowed_list(*network_namespaces_) + "; add self to allow it)";
  } else {
    if (!network_namespaces_)
      return "network namespace " + ns +
             " is not allowed: the policy allows only the injector's own (no "
             "allow.network_namespaces)";
    auto forms = netns_forms(ns);
    bool ok = std::any_of(forms.begin(), forms.end(),
                          [&](const std::string& f) { return any_glob(*network_namespaces_, f); });
    if (!ok)
      return "network namespace " + ns +
             " is not allowed (allowed: " + allowed_list(*network_namespaces_) + ")";
  }
  if (!interfaces_ || interfaces_->empty())
    return "interfaces are not allowed by the policy (no allow.interfaces), so " + kind +
           " cannot touch any";
  std::string ifname = scope.interface();
  std::string which = "interface " + ifname;
  if (ifname.empty()) {
    auto dflt = rtnl::default_route_interface(ns);
    if (!dflt)
      return "cannot tell which interface " + kind + " would use, so allow.interfaces cannot " +
             "be checked (" + dflt.error().message + ")";
    ifname = *dflt;
    which = "interface " + ifname + " (the default route's)";
  }
  if (!any_glob(*interfaces_, ifname))
    return which + " is not allowed (allowed: " + allowed_list(*interfaces_) + ")";
  return "";
}

std::string InjectorPolicy::check_path(const std::string& kind, const std::string& path) const {
  if (!paths_ || paths_->empty())
    return kind + " touches files, and the policy allows no paths (no allow.paths)";
  if (path.empty()) return "";  // the backend refuses a fault without a path
  // Symlinks and ".." resolved first: "/data/../etc" and a link into /etc are /etc.
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  if (ec) real = std::filesystem::absolute(path).lexically_normal();
  std::string shown = real.string() == path ? path : path + " (" + real.string() + ")";
  // Allowed when the path or a directory above it matches: "/data" allows "/data/x/y".
  for (std::filesystem::path p = real;; p = p.parent_path()) {
    std::string s = p.string();
    if (s.size() > 1 && s.back() == '/') s.pop_back();
    if (any_glob(*paths_, s, FNM_PATHNAME)) return "";
    if (p == p.parent_path() || p.empty()) break;
  }
  return "path " + shown + " is not allowed (allowed: " + allowed_list(*paths_) + ")";
}

Duration InjectorPolicy::cap(Duration requested) const {
  return max_duration_ ? std::min(requested, *max_duration_) : requested;
}

std::string InjectorPolicy::summary() const {
  auto list = [](const auto& v) { return v ? join(*v, ",") : std::string("-"); };
  std::vector<std::string> rules;
  if (processes_)
    for (const auto& r : *processes_) rules.push_back(r.describe());
  std::vector<std::string> container_rules;
  if (containers_)
    for (const auto& r : *containers_) container_rules.push_back(r.describe());
  return "kinds=" + join(kinds_, ",") + " interfaces=" + list(interfaces_) +
         " network_namespaces=" + list(network_namespaces_) + " processes=\"" +
         (processes_ ? join(rules, "; ") : "-") + "\" paths=" + list(paths_) + " containers=\"" +
         (containers_ ? join(container_rules, "; ") : "-") +
         "\" max_duration=" + (max_duration_ ? format_duration(*max_duration_) : "-") +
         " commands=" + (commands_.empty() ? "-" : join(commands_, ","));
}

Status InjectorPolicy::check_command(const std::vector<std::string>& argv) const {
  if (argv.empty()) return make_error(ErrorCode::kInvalidArgument, "command has no program");
  if (std::find(commands_.begin(), commands_.end(), argv[0]) != commands_.end()) return Ok{};
  return make_error(ErrorCode::kPermissionDenied,
                    "refused by injector policy (" + source_ + "): \"" + argv[0] +
                        "\" is not in allow.commands (" +
                        (commands_.empty() ? std::string("none listed") : join(commands_, ", ")) +
                        ")");
}

}  // namespace faultline::injector
