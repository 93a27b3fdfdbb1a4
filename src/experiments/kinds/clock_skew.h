// clock_skew: shift the clock a target started with `faultline exec` sees.
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct ClockSkewParams : KindParams {
  Duration offset{};   // signed
  std::string clocks;  // realtime | monotonic | boottime
};

}  // namespace faultline::experiments
