#include "controller/controller_metrics.h"

#include <algorithm>
#include <cctype>

#include "controller/run_state.h"

namespace faultline::controller {

ControllerMetrics& controller_metrics() {
  static ControllerMetrics* m = [] {
    metrics::Registry& r = metrics::default_registry();
    auto buckets = metrics::latency_buckets_seconds();
    auto* made = new ControllerMetrics{
        r.counter("faultline_controller_runs_total", "Runs that have ended, by verdict.",
                  {"verdict"}),
        r.gauge("faultline_controller_runs_active",
                "Runs submitted and not yet ended (queued ones included).")
            .get(),
        r.gauge("faultline_controller_faults_active",
                "Faults applied through this controller and not yet reverted, by kind.", {"kind"}),
        r.histogram("faultline_controller_fault_apply_duration_seconds",
                    "Time from sending an apply to its acknowledgement (injector round trip "
                    "included), successful applies, by kind.",
                    buckets, {"kind"}),
        r.histogram("faultline_controller_fault_revert_duration_seconds",
                    "Time from sending a revert to its acknowledgement, successful reverts of "
                    "faults this controller applied, by kind.",
                    buckets, {"kind"}),
        r.counter("faultline_controller_fault_errors_total",
                  "Applies and reverts that failed (refused, timed out, injector gone), by "
                  "action and kind.",
                  {"action", "kind"}),
        r.histogram("faultline_controller_probe_duration_seconds",
                    "Time one probe attempt took (steady state, guardrail and recovery), by "
                    "probe kind.",
                    buckets, {"kind"}),
        r.counter("faultline_controller_probe_checks_total",
                  "Probe attempts, by probe kind and result (ok, failed).", {"kind", "result"}),
        r.counter("faultline_controller_injector_disconnects_total",
                  "Injector streams that ended (injector stopped, crashed, or the link broke).")
            .get(),
        r.counter("faultline_controller_injector_ledger_recoveries_total",
                  "Faults that injectors reported, when registering, having reverted from their "
                  "ledger after a crash or restart.")
            .get(),
        r.counter("faultline_controller_lease_expiries_observed_total",
                  "Lease renewals the injector refused because it had already ended the fault "
                  "by itself (lease ran out, hard maximum, or lost contact).")
            .get(),
    };
    for (auto s :
         {v1::RUN_STATE_PASSED, v1::RUN_STATE_FAILED, v1::RUN_STATE_ABORTED, v1::RUN_STATE_ERROR})
      made->runs_total.with({verdict_label(s)});
    return made;
  }();
  return *m;
}

std::string verdict_label(v1::RunState state) {
  std::string s = state_name(state);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

metrics::CallbackGauge watch_connected_injectors(const InjectorRegistry& registry) {
  return metrics::default_registry().gauge_callback(
      "faultline_controller_injectors_connected", "Injectors connected to this controller now.",
      [&registry] {
        auto links = registry.all();
        return static_cast<double>(std::count_if(links.begin(), links.end(),
                                                 [](const auto& l) { return l->connected(); }));
      });
}

}  // namespace faultline::controller
