// The injector's metrics (docs/metrics.md), in the process's default registry. Labels are
// bounded sets (fault kinds, fixed reasons); never fault or run ids.
#pragma once

#include "common/metrics/registry.h"

namespace faultline::injector {

struct InjectorMetrics {
  metrics::Family<metrics::Gauge>& faults_active;             // kind
  metrics::Family<metrics::Histogram>& fault_apply_seconds;   // kind
  metrics::Family<metrics::Histogram>& fault_revert_seconds;  // kind
  metrics::Family<metrics::Counter>& fault_errors_total;      // action, kind
  metrics::Family<metrics::Counter>& lease_expiries_total;    // reason
  metrics::Counter& ledger_recoveries_total;
  metrics::Gauge& controller_connected;
};

// Made on first use; the expiry reasons start at 0 so rate() works from the first scrape.
InjectorMetrics& injector_metrics();

// The reasons of lease_expiries_total.
inline constexpr const char* kExpiryLease = "lease_expired";
inline constexpr const char* kExpiryHardMaximum = "hard_maximum";
inline constexpr const char* kExpiryContactLost = "contact_lost";

}  // namespace faultline::injector
