#include "controller/watch/process_restarted_probe.h"

#include "common/time_util.h"

namespace faultline::controller {

ProcessRestartedProbe::ProcessRestartedProbe(std::string name, pb::ProcessSelector selector,
                                             std::vector<std::shared_ptr<InjectorLink>> nodes,
                                             std::set<ProcessKey> touched)
    : name_(std::move(name)),
      selector_(std::move(selector)),
      nodes_(std::move(nodes)),
      touched_(std::move(touched)) {}

ProbeOutcome ProcessRestartedProbe::run() {
  ProbeOutcome out;
  auto start = MonoClock::now();
  std::string seen;
  out.ok = !nodes_.empty();
  for (const auto& link : nodes_) {
    const std::string& node = link->info().node_name;
    auto procs = link->list_processes(selector_);
    if (!procs) {
      out.ok = false;
      seen += (seen.empty() ? "" : "; ") + node + ": " + procs.error().message;
      continue;
    }
    const pb::TouchedProcess* fresh = nullptr;
    for (const auto& p : *procs)
      if (!touched_.count({p.pid(), p.start_time_ticks()})) fresh = &p;
    if (fresh) {
      seen += (seen.empty() ? "" : "; ") + node + ": new pid " + std::to_string(fresh->pid()) +
              " (" + fresh->comm() + ")";
    } else {
      out.ok = false;
      seen += (seen.empty() ? "" : "; ") + node + ": " +
              (procs->empty() ? std::string("no process matches")
                              : "only the process(es) the fault hit");
    }
  }
  out.observed = nodes_.empty() ? "the target was placed on no node" : seen;
  out.latency = MonoClock::now() - start;
  return out;
}

}  // namespace faultline::controller
