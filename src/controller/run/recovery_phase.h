// After the faults: the recovery checks polled until they all pass or the deadline passes,
// and the rollbacks run when the run ends.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "controller/run/run_context.h"
#include "controller/watch/container_restarted_probe.h"
#include "controller/watch/probe_factory.h"
#include "experiments/model.h"

namespace faultline::controller {

// The processes the run's faults touched on a target, (pid, start time ticks): what a
// process_restarted check expects to see replaced.
using TouchedProcesses = std::function<std::set<std::pair<int32_t, uint64_t>>(const std::string&)>;
// The containers and pods the run's faults hit on a target, each with its node: what a
// container_restarted check expects to see running again.
using TouchedContainers = std::function<std::vector<TouchedOnNode>(const std::string&)>;

// Polls `spec`'s checks (each from window_end plus its initial delay) every spec.interval,
// journaling each check's first result and changes. The time to recover in ms (from
// window_end until every check passed at once), or an error: the deadline passed ("did not
// recover within 30s"), or the run was aborted.
Result<int64_t> await_recovery(RunContext& run, const experiments::RecoverySpec& spec,
                               const ProbeContext& probes, const TouchedProcesses& touched,
                               MonoTime window_end, const TouchedContainers& containers = {});

// Runs the rollbacks that apply to a run ending `ending` (PASSED, FAILED, ABORTED or ERROR),
// in order, and notes each one's result in the journal.
void run_rollbacks(RunContext& run, const std::vector<experiments::RollbackAction>& rollbacks,
                   pb::RunState ending, const ProbeContext& probes);

}  // namespace faultline::controller
