// libFuzzer target: any bytes given to the experiment loader must give either an experiment
// or diagnostics, never a crash, a hang or a sanitizer report. A valid result also goes
// through the timeline, so the model the loader builds is one the planner can use.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "experiments/loader.h"
#include "experiments/timeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = faultline::experiments::parse_experiment(text, "fuzz.yaml");
  if (result.ok()) {
    auto timeline = faultline::experiments::compute_timeline(*result.experiment);
    (void)timeline.ok();
  } else {
    for (const auto& d : result.diagnostics) (void)d.format();
  }
  return 0;
}
