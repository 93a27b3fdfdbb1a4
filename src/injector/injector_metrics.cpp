#include "injector/injector_metrics.h"

namespace faultline::injector {

InjectorMetrics& injector_metrics() {
  static InjectorMetrics* m = [] {
    metrics::Registry& r = metrics::default_registry();
    auto buckets = metrics::latency_buckets_seconds();
    auto* made = new InjectorMetrics{
        r.gauge("faultline_injector_faults_active",
                "Faults this injector holds applied now, by kind.", {"kind"}),
        r.histogram("faultline_injector_fault_apply_duration_seconds",
                    "Time to apply a fault on this node (policy check, ledger fsyncs and the "
                    "backend), successful applies, by kind.",
                    buckets, {"kind"}),
        r.histogram("faultline_injector_fault_revert_duration_seconds",
                    "Time to revert a fault on this node (backend and ledger), successful "
                    "reverts, by kind.",
                    buckets, {"kind"}),
        r.counter("faultline_injector_fault_errors_total",
                  "Applies and reverts that failed or were refused (policy, no backend, ledger, "
                  "backend error), by action and kind.",
                  {"action", "kind"}),
        r.counter("faultline_injector_lease_expiries_total",
                  "Faults the injector reverted by itself, by reason: lease_expired (not "
                  "renewed in time), hard_maximum (reached its maximum duration), contact_lost "
                  "(no word from the controller for the contact grace).",
                  {"reason"}),
        r.counter("faultline_injector_ledger_recoveries_total",
                  "Faults reverted at start-up from the ledger, left by a crashed or killed "
                  "injector.")
            .get(),
        r.gauge("faultline_injector_controller_connected",
                "1 while this injector is registered with its controller, else 0.")
            .get(),
    };
    for (const char* reason : {kExpiryLease, kExpiryHardMaximum, kExpiryContactLost})
      made->lease_expiries_total.with({reason});
    return made;
  }();
  return *m;
}

}  // namespace faultline::injector
