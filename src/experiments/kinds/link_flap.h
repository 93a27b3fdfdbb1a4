// link_flap: take the target's interface down and up on a schedule.
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct LinkFlapParams : KindParams {
  Duration down{};
  Duration up{};
};

}  // namespace faultline::experiments
