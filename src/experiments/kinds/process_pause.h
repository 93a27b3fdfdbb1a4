// process_pause: freeze the target's processes (SIGSTOP/SIGCONT or the cgroup freezer).
#pragma once

#include "experiments/kinds/fault_kind.h"
#include "experiments/model.h"

namespace faultline::experiments {

struct ProcessPauseParams : KindParams {
  Selection select;
  std::string method;  // signal | freezer
};

}  // namespace faultline::experiments
