// io_fault: slow down or fail file operations under the target's paths (a FUSE overlay).
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct IoFaultParams : KindParams {
  Duration latency{};
  std::string error;  // none | EIO | ENOSPC | ...
  double fraction = 0;
  std::string operations;  // read | write | all
};

}  // namespace faultline::experiments
