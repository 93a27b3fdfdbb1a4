#include "controller/watch/process_alive_probe.h"

#include "common/time_util.h"

namespace faultline::controller {

ProcessAliveProbe::ProcessAliveProbe(std::string name, pb::ProcessSelector selector,
                                     std::vector<std::shared_ptr<InjectorLink>> nodes)
    : name_(std::move(name)), selector_(std::move(selector)), nodes_(std::move(nodes)) {}

ProbeOutcome ProcessAliveProbe::run() {
  auto start = MonoClock::now();
  ProbeOutcome out;
  out.ok = !nodes_.empty();
  for (const auto& link : nodes_) {
    const std::string& node = link->info().node_name;
    auto procs = link->list_processes(selector_);
    std::string seen;
    if (!procs) {
      out.ok = false;
      seen = procs.error().message;
    } else if (procs->empty()) {
      out.ok = false;
      seen = "no process matches";
    } else {
      seen = "pid " + std::to_string(procs->front().pid()) + " (" + procs->front().comm() + ")" +
             (procs->size() > 1 ? " and " + std::to_string(procs->size() - 1) + " more" : "");
    }
    out.observed += (out.observed.empty() ? "" : "; ") + node + ": " + seen;
  }
  if (nodes_.empty()) out.observed = "the target was placed on no node";
  out.latency = MonoClock::now() - start;
  return out;
}

}  // namespace faultline::controller
