// cpu_stress: busy worker threads at a target load.
#pragma once

#include <vector>

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct CpuStressParams : KindParams {
  int workers = 0;
  double load = 0;  // fraction of a CPU per worker
  std::vector<int> cpus;
};

}  // namespace faultline::experiments
