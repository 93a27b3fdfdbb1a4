#include "common/metrics/process_metrics.h"

#include <chrono>

namespace faultline::metrics {

void register_process_metrics(Registry& registry, const std::string& component) {
  registry
      .gauge("faultline_build_info", "Always 1; the labels say which faultline build this is.",
             {"component", "version"})
      .with({component, FAULTLINE_VERSION})
      .set(1);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  registry.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch.")
      .get()
      .set(now);
}

}  // namespace faultline::metrics
