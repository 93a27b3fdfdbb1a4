// network_bandwidth: throttle the target interface to a rate.
#pragma once

#include <cstdint>

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct NetworkBandwidthParams : KindParams {
  uint64_t rate_bps = 0;
  uint64_t burst_bytes = 0;
  uint64_t limit_bytes = 0;
  std::string backend;  // tbf | htb | netem
};

}  // namespace faultline::experiments
