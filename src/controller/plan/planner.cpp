#include "controller/plan/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <set>

#include "common/hash.h"
#include "experiments/kinds/fault_kind.h"

namespace faultline::controller {
namespace {

using experiments::Selection;

std::string mode_name(const Selection& s) {
  switch (s.mode) {
    case Selection::Mode::kOne:
      return "one";
    case Selection::Mode::kAll:
      return "all";
    case Selection::Mode::kCount:
      return fmt::format("count {}", s.count);
    case Selection::Mode::kPercent:
      return fmt::format("percent {:g}%", s.fraction * 100);
  }
  return "?";
}

// What a target hits inside each node, as the plan shows it.
std::string scope_text(const experiments::TargetSpec& t) {
  std::vector<std::string> parts;
  if (t.container) {
    const auto& c = *t.container;
    auto labels = [](const std::map<std::string, std::string>& m) {
      std::vector<std::string> kv;
      for (const auto& [k, v] : m) kv.push_back(k + "=" + v);
      return fmt::format("{}", fmt::join(kv, ","));
    };
    std::string what;
    if (c.pod) {
      what = "pods";
      if (!c.pod_namespace.empty()) what += " in namespace " + c.pod_namespace;
      if (!c.pod_name.empty()) what += " named " + c.pod_name;
      if (!c.pod_labels.empty()) what += " labelled " + labels(c.pod_labels);
      if (!c.name.empty()) what += ", container " + c.name;
    } else {
      what = "containers (" + c.runtime + ")";
      if (!c.name.empty()) what += " named " + c.name;
      if (!c.id.empty()) what += " id " + c.id;
      if (!c.image.empty()) what += " of image " + c.image;
      if (!c.labels.empty()) what += " labelled " + labels(c.labels);
    }
    parts.push_back(what + ", resolved on each node through its runtime");
  }
  if (t.process) {
    const auto& p = *t.process;
    if (!p.name.empty()) parts.push_back("process name " + p.name);
    if (!p.cmdline.empty()) parts.push_back("process cmdline ~ " + p.cmdline);
    if (!p.pidfile.empty()) parts.push_back("process from " + p.pidfile);
    if (!p.cgroup.empty()) parts.push_back("processes in cgroup " + p.cgroup);
    if (p.pid) parts.push_back("pid " + std::to_string(p.pid));
  }
  if (t.network) {
    const auto& n = *t.network;
    std::string net = n.direction + " " + n.protocol + " traffic";
    if (!n.interface.empty()) net += " on " + n.interface;
    if (!n.netns.empty()) net += " in netns " + n.netns;
    if (!n.destinations.empty()) net += fmt::format(" to {}", fmt::join(n.destinations, ","));
    if (!n.ports.empty()) net += fmt::format(" ports {}", fmt::join(n.ports, ","));
    parts.push_back(net);
  }
  if (!t.paths.empty()) parts.push_back(fmt::format("paths {}", fmt::join(t.paths, ",")));
  if (t.proxy) parts.push_back(fmt::format("proxy {} at {}", t.proxy->name, t.proxy->api));
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string probe_names(const std::vector<experiments::ProbeSpec>& probes) {
  std::vector<std::string> names;
  for (const auto& p : probes) names.push_back(p.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

bool matches(const InjectorInfo& info, const std::map<std::string, std::string>& selector) {
  for (const auto& [k, v] : selector) {
    auto it = info.labels.find(k);
    if (it == info.labels.end() || it->second != v) return false;
  }
  return true;
}

// How many of `matched` a selection takes, or an error naming the target and what matched.
Result<size_t> how_many(const Selection& s, size_t matched, const std::string& target,
                        const std::string& what) {
  switch (s.mode) {
    case Selection::Mode::kOne:
      return size_t{1};
    case Selection::Mode::kAll:
      return matched;
    case Selection::Mode::kCount:
      if (static_cast<size_t>(s.count) > matched)
        return make_error(ErrorCode::kFailedPrecondition,
                          fmt::format("target \"{}\": mode count {} but only {} {} match", target,
                                      s.count, matched, what));
      return static_cast<size_t>(s.count);
    case Selection::Mode::kPercent:
      return std::max<size_t>(1, static_cast<size_t>(std::ceil(s.fraction * matched)));
  }
  return size_t{1};
}

Result<TargetPlacement> place(const experiments::TargetSpec& t,
                              const std::vector<InjectorInfo>& injectors, uint32_t seed) {
  std::vector<std::string> matched;
  for (const auto& i : injectors)
    if (matches(i, t.nodes.selector)) matched.push_back(i.node_name);
  std::sort(matched.begin(), matched.end());
  std::string selector;
  for (const auto& [k, v] : t.nodes.selector)
    selector += (selector.empty() ? "" : ",") + k + "=" + v;
  if (matched.empty()) {
    // Name what is there, so a label typo is obvious; a big fleet is summarised.
    std::vector<std::string> connected;
    for (const auto& i : injectors) {
      std::vector<std::string> labels;
      for (const auto& [k, v] : i.labels) labels.push_back(k + "=" + v);
      connected.push_back(fmt::format("{} {{{}}}", i.node_name, fmt::join(labels, ",")));
    }
    std::string there = injectors.empty() ? "no injector is connected"
                        : injectors.size() > 5
                            ? fmt::format("{} injectors connected", injectors.size())
                            : fmt::format("connected: {}", fmt::join(connected, "; "));
    return make_error(ErrorCode::kFailedPrecondition,
                      "target \"" + t.name + "\": no connected injector matches" +
                          (selector.empty() ? "" : " selector " + selector) + " (" + there + ")");
  }
  const Selection& s = t.nodes.select;
  auto how = how_many(s, matched.size(), t.name, "node(s)");
  if (!how) return how.error();
  size_t want = *how;
  uint32_t target_seed = t.nodes.seed.value_or(seed);
  // Seeded per target, so adding a target does not change the choice for the others. The
  // hash and the shuffle are spelled out (not std::hash/std::shuffle, which differ between
  // standard libraries) so a seed printed by CI reproduces the placement anywhere.
  std::mt19937 rng(target_seed ^ fnv1a(t.name));
  std::vector<std::string> chosen = matched;
  for (size_t i = chosen.size(); i > 1; --i) std::swap(chosen[i - 1], chosen[rng() % i]);
  chosen.resize(want);
  std::sort(chosen.begin(), chosen.end());
  TargetPlacement p;
  p.nodes = chosen;
  std::set_difference(matched.begin(), matched.end(), chosen.begin(), chosen.end(),
                      std::back_inserter(p.spared));
  p.why = fmt::format("{} of {} matching node(s){} (mode {}, seed {})", want, matched.size(),
                      selector.empty() ? "" : " with " + selector, mode_name(s), target_seed);
  return p;
}

// The same seeded choice as for nodes, over the pods or containers every selected node has.
Result<TargetPlacement> place_containers(const experiments::TargetSpec& t,
                                         const std::vector<InjectorInfo>& injectors,
                                         const std::map<std::string, NodeContainers>& answers,
                                         uint32_t seed, std::vector<std::string>& notes) {
  const auto& c = *t.container;
  const std::string what = c.pod ? "pod(s)" : "container(s)";
  std::vector<std::pair<std::string, pb::TouchedContainer>> matched;
  std::vector<std::string> failed, searched;
  size_t asked = 0;
  for (const auto& i : injectors) {
    if (!matches(i, t.nodes.selector)) continue;
    auto it = answers.find(i.node_name);
    if (it == answers.end()) continue;
    ++asked;
    if (!it->second.error.empty()) {
      failed.push_back(i.node_name + ": " + it->second.error);
      continue;
    }
    for (const auto& found : it->second.found) matched.emplace_back(i.node_name, found);
    searched.push_back(i.node_name);
  }
  auto key = [&c](const pb::TouchedContainer& x) { return c.pod ? x.pod_id() : x.id(); };
  std::sort(matched.begin(), matched.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : key(a.second) < key(b.second);
  });
  if (!failed.empty() && (matched.empty() || failed.size() == asked))
    return make_error(ErrorCode::kFailedPrecondition,
                      fmt::format("target \"{}\": could not list {} on {}", t.name, what,
                                  fmt::join(failed, "; ")));
  for (const auto& f : failed)
    notes.push_back(fmt::format("target \"{}\": node {} (left out)", t.name, f));
  TargetPlacement p;
  p.searched = searched;
  uint32_t target_seed = t.nodes.seed.value_or(seed);
  if (matched.empty()) {
    std::string none =
        fmt::format("no running {} matches on any of the {} node(s) asked", what, asked);
    if (!c.skip_if_empty)
      return make_error(ErrorCode::kFailedPrecondition, "target \"" + t.name + "\": " + none);
    p.why = none + " (on_empty: skip: its faults apply to nothing)";
    return p;
  }
  auto want = how_many(c.select, matched.size(), t.name, what);
  if (!want) return want.error();
  std::mt19937 rng(target_seed ^ fnv1a(t.name));
  std::vector<size_t> order(matched.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  std::vector<bool> chosen(matched.size(), false);
  for (size_t i = 0; i < *want; ++i) chosen[order[i]] = true;
  std::set<std::string> nodes;
  for (size_t i = 0; i < matched.size(); ++i) {
    const auto& [node, found] = matched[i];
    if (chosen[i]) {
      nodes.insert(node);
      p.containers[node].push_back(found);
    } else {
      p.spared.push_back(node + " " + container_label(found));
    }
  }
  p.nodes.assign(nodes.begin(), nodes.end());
  p.why = fmt::format("{} of {} matching {} on {} node(s) (mode {}, seed {})", *want,
                      matched.size(), what, asked, mode_name(c.select), target_seed);
  return p;
}

// The backend a fault names ("auto", "netem", ...), or "" for kinds that have no choice.
std::string backend_of(const experiments::FaultSpec& f) {
  const experiments::FaultKind* kind = experiments::find_fault_kind(f.kind);
  return kind && kind->mechanism && f.params ? kind->mechanism(*f.params) : "";
}

std::string kinds_text(const std::vector<std::string>& caps) {
  std::vector<std::string> kinds;
  for (const auto& c : caps)
    if (c.find(':') == std::string::npos) kinds.push_back(c);
  return kinds.empty() ? "nothing" : fmt::format("{}", fmt::join(kinds, ", "));
}

}  // namespace

std::string container_label(const pb::TouchedContainer& c) {
  std::string label = !c.pod_name().empty() && c.runtime() == "cri"
                          ? c.pod_namespace() + "/" + c.pod_name() +
                                (c.name().empty() ? "" : " container " + c.name())
                          : c.name() + " (" + c.id().substr(0, 12) + ")";
  if (!c.ip().empty()) label += " " + c.ip();
  return label;
}

Result<Plan> make_plan(const experiments::Experiment& e, const std::vector<InjectorInfo>& injectors,
                       std::optional<uint32_t> seed, const ContainerInventory* containers) {
  Plan plan;
  plan.seed = seed.value_or(std::random_device{}());
  auto timeline = experiments::compute_timeline(e);
  if (!timeline) return timeline.error();
  plan.total = timeline->total;

  std::map<std::string, const InjectorInfo*> by_name;
  for (const auto& i : injectors) by_name[i.node_name] = &i;
  for (const auto& f : e.faults) {
    if (plan.targets.count(f.target)) continue;
    const experiments::TargetSpec& t = *e.find_target(f.target);
    auto answers =
        containers && t.container ? containers->find(t.name) : ContainerInventory::const_iterator{};
    auto placed = containers && t.container && answers != containers->end()
                      ? place_containers(t, injectors, answers->second, plan.seed, plan.notes)
                      : place(t, injectors, plan.seed);
    if (!placed) return placed.error();
    plan.targets[f.target] = *placed;
  }
  for (const auto& f : e.faults) {
    const std::string mechanism = backend_of(f);
    for (const auto& node : plan.targets[f.target].nodes) {
      const auto& caps = by_name[node]->capabilities;
      auto has = [&](const std::string& c) {
        return std::find(caps.begin(), caps.end(), c) != caps.end();
      };
      if (!experiments::find_fault_kind(f.kind) || !has(f.kind))
        return make_error(ErrorCode::kFailedPrecondition,
                          "fault \"" + f.name + "\": node " + node + " cannot do " + f.kind +
                              " (it can: " + kinds_text(caps) + ")");
      if (mechanism.empty()) continue;
      std::vector<std::string> offered;
      for (const auto& c : caps)
        if (c.rfind(f.kind + ":", 0) == 0) offered.push_back(c.substr(f.kind.size() + 1));
      if (mechanism != "auto" && !has(f.kind + ":" + mechanism))
        return make_error(
            ErrorCode::kFailedPrecondition,
            "fault \"" + f.name + "\": node " + node + " cannot do " + f.kind + " with backend " +
                mechanism + " (it offers: " +
                (offered.empty() ? "none" : fmt::format("{}", fmt::join(offered, ", "))) + ")" +
                (mechanism == "netem" ? "; its kernel has no sch_netem, "
                                        "backend: auto would use nfqueue"
                                      : ""));
      // What "auto" will use there: netem where the kernel has it, the user-space engine
      // otherwise (the injector decides the same way).
      std::string used = mechanism != "auto"      ? mechanism
                         : has(f.kind + ":netem") ? "netem"
                         : !offered.empty()       ? offered.back()
                                                  : "";
      if (!used.empty()) plan.mechanisms[f.name][node] = used;
    }
  }
  for (const auto& w : timeline->windows)
    plan.faults.push_back({w, plan.targets[e.faults[w.fault_index].target].nodes});
  return plan;
}

std::string first_trace_sli(const experiments::Experiment& e) {
  auto reads = [](const experiments::ProbeKind& k) {
    auto* sli = std::get_if<experiments::SliCondition>(&k);
    return sli && sli->source.kind == experiments::SpanSource::Kind::kOtlp;
  };
  for (const auto& p : e.steady_state)
    if (reads(p.kind)) return "steady-state probe \"" + p.name + "\"";
  for (const auto& g : e.abort_when)
    if (reads(g.probe)) return "guardrail \"" + g.name + "\"";
  if (e.recovery)
    for (const auto& c : e.recovery->checks)
      if (reads(c.kind)) return "recovery check \"" + c.name + "\"";
  return "";
}

std::string format_plan(const experiments::Experiment& e, const Plan& plan) {
  std::string out =
      fmt::format("Plan for {} ({}), seed {}\n", e.metadata.name, e.source_file, plan.seed);
  out += "\nTargets\n";
  for (const auto& [name, p] : plan.targets) {
    out += fmt::format("  {:<16} -> {}   {}\n", name, fmt::join(p.nodes, ", "), p.why);
    if (!p.spared.empty()) {
      // The blast radius is what was chosen; what was left out is said as plainly.
      std::vector<std::string> shown(p.spared.begin(),
                                     p.spared.begin() + std::min<size_t>(p.spared.size(), 8));
      std::string more =
          p.spared.size() > shown.size() ? fmt::format(" and {} more", p.spared.size() - 8) : "";
      out += fmt::format("  {:<16}    spared {}{}\n", "", fmt::join(shown, ", "), more);
    }
    for (const auto& [node, chosen] : p.containers)
      for (const auto& c : chosen)
        out += fmt::format("  {:<16}    {} {}\n", "", node, container_label(c));
    if (const auto* t = e.find_target(name); t && !scope_text(*t).empty())
      out += fmt::format("  {:<16}    hits {}\n", "", scope_text(*t));
  }
  std::vector<std::string> continuing;
  for (const auto& f : e.faults)
    if (e.node_failure_policy(f) == experiments::NodeFailurePolicy::kContinue)
      continuing.push_back(f.name);
  out += continuing.empty()
             ? std::string("  if a node fails to apply a fault or drops out: abort the run\n")
         : continuing.size() == e.faults.size()
             ? std::string(
                   "  if a node fails to apply a fault or drops out: continue with the "
                   "other nodes\n")
             : fmt::format("  if a node fails or drops out: continue for {}; abort for the rest\n",
                           fmt::join(continuing, ", "));
  out += "\nTimeline (from the start of injection)\n";
  for (const auto& pf : plan.faults) {
    const auto& f = e.faults[pf.window.fault_index];
    std::string inst = f.repeat_count > 1 ? fmt::format(" #{}", pf.window.instance + 1) : "";
    std::string when = pf.window.end == pf.window.start
                           ? fmt::format("{:>8}            ", format_duration(pf.window.start))
                           : fmt::format("{:>8} .. {:<8}", format_duration(pf.window.start),
                                         format_duration(pf.window.end));
    std::string via;
    if (auto m = plan.mechanisms.find(f.name); m != plan.mechanisms.end()) {
      std::set<std::string> used;
      for (const auto& [node, mech] : m->second) used.insert(mech);
      via = fmt::format(" via {}", fmt::join(used, "/"));
    }
    out += fmt::format("  {} {}{} ({}{}) on {} [target {}]\n", when, f.name, inst, f.kind, via,
                       fmt::join(pf.nodes, ", "), f.target);
  }
  out += fmt::format("  {:>8}    end of injection\n", format_duration(plan.total));
  out += "\nProbes\n";
  if (!e.steady_state.empty())
    out += fmt::format("  steady state     before injection and after recovery: {}\n",
                       probe_names(e.steady_state));
  for (const auto& g : e.abort_when)
    out += fmt::format("  abort when       {} fails for {} (every {}) while faults are active\n",
                       g.name, format_duration(g.hold_for), format_duration(g.interval));
  if (e.recovery)
    out += fmt::format("  recovery         within {} after the faults end: {}\n",
                       format_duration(e.recovery->deadline), probe_names(e.recovery->checks));
  for (const auto& r : e.rollbacks)
    out += fmt::format(
        "  rollback         {} on {}\n", r.name,
        r.on.empty() ? std::string("every ending") : fmt::format("{}", fmt::join(r.on, ", ")));
  for (const auto& n : plan.notes) out += "\nnote: " + n + "\n";
  return out;
}

}  // namespace faultline::controller
