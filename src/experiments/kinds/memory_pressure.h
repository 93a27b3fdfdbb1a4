// memory_pressure: allocate and hold memory, never below a floor of free memory.
#pragma once

#include <cstdint>

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct MemoryPressureParams : KindParams {
  uint64_t size_bytes = 0;  // or fraction
  double fraction = 0;      // of total memory
  Duration ramp{};
  double floor = 0;  // fraction of memory always left free
};

}  // namespace faultline::experiments
