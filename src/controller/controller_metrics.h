// The controller's metrics (docs/metrics.md), in the process's default registry. Labels are
// bounded sets: verdicts, fault kinds, probe kinds; never run, fault or node ids.
#pragma once

#include <string>

#include "common/metrics/registry.h"
#include "controller/link/injector_registry.h"
#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

struct ControllerMetrics {
  metrics::Family<metrics::Counter>& runs_total;  // verdict
  metrics::Gauge& runs_active;
  metrics::Family<metrics::Gauge>& faults_active;             // kind
  metrics::Family<metrics::Histogram>& fault_apply_seconds;   // kind
  metrics::Family<metrics::Histogram>& fault_revert_seconds;  // kind
  metrics::Family<metrics::Counter>& fault_errors_total;      // action, kind
  metrics::Family<metrics::Histogram>& probe_seconds;         // kind
  metrics::Family<metrics::Counter>& probe_checks_total;      // kind, result
  metrics::Counter& injector_disconnects_total;
  metrics::Counter& injector_ledger_recoveries_total;
  metrics::Counter& lease_expiries_observed_total;
};

// Made on first use; every series with a known, fixed label set (verdicts) starts at 0.
ControllerMetrics& controller_metrics();

// "passed", "failed", "aborted", "error" for a final state.
std::string verdict_label(v1::RunState state);

// faultline_controller_injectors_connected, read from `registry` at each scrape until the
// handle is dropped.
[[nodiscard]] metrics::CallbackGauge watch_connected_injectors(const InjectorRegistry& registry);

}  // namespace faultline::controller
