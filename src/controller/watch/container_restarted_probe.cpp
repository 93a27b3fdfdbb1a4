#include "controller/watch/container_restarted_probe.h"

#include <map>

#include "common/time_util.h"

namespace faultline::controller {

namespace {

std::string label(const pb::TouchedContainer& c) {
  if (!c.pod_name().empty()) return c.pod_namespace() + "/" + c.pod_name();
  return c.name() + " (" + c.id().substr(0, 12) + ")";
}

// The same pod (Kubernetes keeps its uid across new sandboxes) or, without pods, the same
// container name (Docker keeps the container; a recreated one keeps its name).
bool same_unit(const pb::TouchedContainer& a, const pb::TouchedContainer& b) {
  if (!a.pod_uid().empty()) return a.pod_uid() == b.pod_uid();
  return !a.name().empty() && a.name() == b.name();
}

}  // namespace

bool runs_again(const pb::TouchedContainer& hit, const std::vector<pb::TouchedContainer>& now,
                std::string& why) {
  for (const auto& c : now) {
    if (!same_unit(hit, c)) continue;
    if (!hit.pod_id().empty() && c.pod_id() != hit.pod_id()) {
      why = label(c) + " has a new sandbox";
      return true;
    }
    // Every member the fault hit must run again: new, or restarted in place.
    std::map<std::string, const pb::TouchedMember*> current;
    for (const auto& m : c.members()) current[m.name()] = &m;
    bool all = hit.members_size() > 0;
    std::string what;
    for (const auto& m : hit.members()) {
      auto it = current.find(m.name());
      bool again = it != current.end() &&
                   (it->second->id() != m.id() || it->second->restart_count() > m.restart_count());
      all = all && again;
      if (again)
        what += (what.empty() ? "" : ", ") + m.name() +
                (it->second->id() != m.id() ? " is a new container" : " was restarted");
    }
    if (all) {
      why = label(c) + ": " + what;
      return true;
    }
    why = label(c) + ": not every container the fault hit runs again yet";
    return false;
  }
  why = label(hit) + " is not running";
  return false;
}

ContainerRestartedProbe::ContainerRestartedProbe(std::string name, pb::ContainerSelector selector,
                                                 std::vector<std::shared_ptr<InjectorLink>> nodes,
                                                 std::vector<TouchedOnNode> touched)
    : name_(std::move(name)),
      selector_(std::move(selector)),
      nodes_(std::move(nodes)),
      touched_(std::move(touched)) {}

ProbeOutcome ContainerRestartedProbe::run() {
  ProbeOutcome out;
  auto start = MonoClock::now();
  // Every node asked at once; each answer read once.
  std::map<std::string, Result<std::vector<pb::TouchedContainer>>> answers;
  {
    std::vector<std::pair<std::string, Reply<std::vector<pb::TouchedContainer>>>> asked;
    for (const auto& link : nodes_)
      asked.emplace_back(link->info().node_name, link->start_list_containers(selector_));
    for (auto& [node, reply] : asked) answers.emplace(node, reply.get());
  }
  out.ok = !touched_.empty();
  std::string seen;
  for (const auto& t : touched_) {
    auto it = answers.find(t.node);
    std::string why;
    bool ok = false;
    if (it == answers.end()) {
      why = "node is not connected";
    } else if (!it->second) {
      why = it->second.error().message;
    } else {
      ok = runs_again(t.container, *it->second, why);
    }
    out.ok = out.ok && ok;
    seen += (seen.empty() ? "" : "; ") + t.node + ": " + why;
  }
  out.observed = touched_.empty() ? "the faults hit no container" : seen;
  out.latency = MonoClock::now() - start;
  return out;
}

}  // namespace faultline::controller
