// container_kill: stop containers through their runtime; their restart policy brings them back.
#pragma once

#include "experiments/kinds/fault_kind.h"
#include "experiments/model.h"

namespace faultline::experiments {

struct ContainerKillParams : KindParams {
  Duration grace{};  // SIGTERM first, SIGKILL after this (0: SIGKILL at once)
};

}  // namespace faultline::experiments
