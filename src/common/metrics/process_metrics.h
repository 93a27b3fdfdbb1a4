// What every faultline daemon exports about itself: its version and when it started.
#pragma once

#include <string>

#include "common/metrics/registry.h"

namespace faultline::metrics {

// faultline_build_info{component,version} 1 and process_start_time_seconds (the conventional
// name every Prometheus client library uses, so `time() - process_start_time_seconds` works
// the same as for other exporters). Call once, early in main.
void register_process_metrics(Registry& registry, const std::string& component);

}  // namespace faultline::metrics
