// When each fault runs, relative to the start of injection, computed from the method's
// steps (sequential and parallel blocks, pauses, start offsets, after:, repeat). Pure: the
// same experiment always gives the same timeline.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "experiments/model.h"

namespace faultline::experiments {

struct FaultWindow {
  size_t fault_index = 0;  // into Experiment::faults
  int instance = 0;        // 0-based repeat number
  Duration start{};
  Duration end{};
};

struct Timeline {
  std::vector<FaultWindow> windows;  // sorted by start, then document order
  Duration total{};                  // when the last step ends
};

// Fails when `after:` names a fault that is not scheduled before the one naming it.
Result<Timeline> compute_timeline(const Experiment& experiment);

}  // namespace faultline::experiments
