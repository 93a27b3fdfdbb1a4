// process_kill: send a signal to the target's processes, once or as a crash loop.
#pragma once

#include <csignal>

#include "experiments/kinds/fault_kind.h"
#include "experiments/model.h"

namespace faultline::experiments {

struct ProcessKillParams : KindParams {
  int signal = SIGKILL;
  Selection select;
  Duration interval{};  // > 0: repeat the signal (crash loop)
};

}  // namespace faultline::experiments
