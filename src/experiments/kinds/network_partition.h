// network_partition: drop all traffic in the target's network scope (a blackhole).
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct NetworkPartitionParams : KindParams {
  std::string direction;  // egress | ingress | both
};

}  // namespace faultline::experiments
