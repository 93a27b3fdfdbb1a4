// network_delay: add latency (and jitter) to packets in the target's network scope.
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct NetworkDelayParams : KindParams {
  Duration delay{};
  Duration jitter{};
  double correlation = 0;
  std::string distribution;  // uniform | normal | pareto | paretonormal
  std::string backend;       // auto | netem | nfqueue
};

}  // namespace faultline::experiments
