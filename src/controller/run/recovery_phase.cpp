#include "controller/run/recovery_phase.h"

#include <algorithm>
#include <map>
#include <memory>

#include "common/command_runner.h"
#include "controller/watch/process_restarted_probe.h"

namespace faultline::controller {
namespace {

std::vector<std::unique_ptr<Probe>> make_checks(const experiments::RecoverySpec& spec,
                                                const ProbeContext& probes,
                                                const TouchedProcesses& touched,
                                                const TouchedContainers& containers) {
  std::vector<std::unique_ptr<Probe>> checks;
  for (const auto& c : spec.checks) {
    if (const auto* cr = std::get_if<experiments::ContainerRestartedSpec>(&c.kind)) {
      checks.push_back(std::make_unique<ContainerRestartedProbe>(
          c.name, probes.container_of ? probes.container_of(cr->target) : pb::ContainerSelector{},
          probes.nodes_of(cr->target),
          containers ? containers(cr->target) : std::vector<TouchedOnNode>{}));
      continue;
    }
    if (const auto* pr = std::get_if<experiments::ProcessRestartedSpec>(&c.kind)) {
      checks.push_back(std::make_unique<ProcessRestartedProbe>(
          c.name, probes.selector_of(pr->target), probes.nodes_of(pr->target),
          touched(pr->target)));
      continue;
    }
    checks.push_back(make_probe(c, probes));
  }
  return checks;
}

}  // namespace

Result<int64_t> await_recovery(RunContext& run, const experiments::RecoverySpec& spec,
                               const ProbeContext& probes, const TouchedProcesses& touched,
                               MonoTime window_end, const TouchedContainers& containers) {
  std::vector<std::unique_ptr<Probe>> checks = make_checks(spec, probes, touched, containers);
  auto since_window_end = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - window_end)
        .count();
  };
  MonoTime deadline = window_end + spec.deadline;
  std::vector<int> last(checks.size(), -1);  // -1 unknown, 0 failing, 1 passing
  std::vector<bool> recovered(checks.size(), false);
  for (;;) {
    bool all_ok = true;
    for (size_t i = 0; i < checks.size(); ++i) {
      if (MonoClock::now() < window_end + spec.checks[i].timing.initial_delay) {
        all_ok = false;
        continue;
      }
      ProbeOutcome o = checks[i]->run();
      run.sample(checks[i]->name(), pb::PROBE_PHASE_RECOVERY, o);
      all_ok = all_ok && o.ok;
      // Journal the first result and every change, not every poll: a 10 s wait at 100 ms
      // would otherwise bury the story in identical lines.
      if (last[i] == static_cast<int>(o.ok)) continue;
      last[i] = o.ok;
      // Each check's own time to recover: its first pass after the faults went away.
      int64_t after = -1;
      if (o.ok && !recovered[i]) {
        recovered[i] = true;
        after = since_window_end();
      }
      run.journal_probe(checks[i]->name(), pb::PROBE_PHASE_RECOVERY, o, after);
    }
    if (all_ok) return since_window_end();
    MonoTime now = MonoClock::now();
    if (now >= deadline)
      return make_error(ErrorCode::kFailedPrecondition,
                        "did not recover within " + format_duration(spec.deadline));
    if (!run.sleep_until(std::min(deadline, now + spec.interval)))
      return make_error(ErrorCode::kFailedPrecondition, "aborted while recovering");
  }
}

void run_rollbacks(RunContext& run, const std::vector<experiments::RollbackAction>& rollbacks,
                   pb::RunState ending, const ProbeContext& probes) {
  static const std::map<pb::RunState, std::string> kEnding = {{pb::RUN_STATE_PASSED, "passed"},
                                                              {pb::RUN_STATE_FAILED, "failed"},
                                                              {pb::RUN_STATE_ABORTED, "aborted"},
                                                              {pb::RUN_STATE_ERROR, "error"}};
  const std::string& name = kEnding.at(ending);
  for (const auto& rb : rollbacks) {
    if (!rb.on.empty() && std::find(rb.on.begin(), rb.on.end(), name) == rb.on.end()) continue;
    std::string result;
    if (const auto* cmd = std::get_if<experiments::CommandAction>(&rb.action)) {
      std::string where;
      auto r = run_placed_command(probes.commands.get(), cmd->argv, cmd->timeout, where);
      if (!r)
        result = "could not run" + where + ": " + r.error().message;
      else if (r->timed_out)
        result = "timed out after " + format_duration(cmd->timeout) + where;
      else
        result = "exit code " + std::to_string(r->exit_code) + where;
    } else {
      const auto& http = std::get<experiments::HttpProbeSpec>(rb.action);
      experiments::ProbeTiming timing;
      timing.timeout = http.timeout;
      experiments::ProbeSpec ps{rb.name, rb.where, http, timing};
      ProbeOutcome o = make_probe(ps, probes)->run();
      result = (o.ok ? "ok: " : "FAILED: ") + o.observed;
    }
    run.note("rollback " + rb.name + ": " + result);
  }
}

}  // namespace faultline::controller
