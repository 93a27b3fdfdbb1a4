#include "experiments/kinds/process_pause.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const ProcessPauseParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* k = out.mutable_process_pause();
  *k->mutable_selector() = t.selector;
  *k->mutable_select() = selection_to_wire(p.select);
  k->set_method(p.method);
}

void check(const FaultSpec& f, const TargetSpec* t, KindProblems& problems) {
  if (f.duration <= Duration::zero())
    problems.error("duration",
                   "process_pause needs a duration > 0 (how long the process stays paused)");
  const auto* p = params_as<ProcessPauseParams>(f.params);
  if (t && p && p->method == "freezer" && t->container && t->process)
    problems.error("params.method", "the freezer freezes a whole container: target \"" + t->name +
                                        "\" narrows it to some processes (drop targets." + t->name +
                                        ".process, or use method: signal)");
  // A container target brings its own cgroup (the injector finds it).
  if (t && p && p->method == "freezer" && !t->container &&
      (!t->process || t->process->cgroup.empty()))
    problems.error("params.method", "the freezer freezes a cgroup: target \"" + t->name +
                                        "\" needs a cgroup selector (targets." + t->name +
                                        ".process.cgroup)");
}

FaultKind describe() {
  return {
      .name = "process_pause",
      .params = object(process_selection_props(
                           {opt("method", enumeration({"signal", "freezer"},
                                                      "SIGSTOP/SIGCONT, or the cgroup freezer for "
                                                      "targets with their own cgroup.",
                                                      "signal"))}),
                       "Freeze the target processes for the fault's duration."),
      .needs = TargetNeeds::kProcess,
      .scope = ScopeClass::kProcesses,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<ProcessPauseParams>();
            p->select = read_selection(v);
            p->method = v.text("method");
            return p;
          },
      .check = check,
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
