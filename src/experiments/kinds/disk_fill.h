// disk_fill: fill the filesystem holding the target path.
#pragma once

#include <cstdint>

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct DiskFillParams : KindParams {
  uint64_t size_bytes = 0;  // or fraction
  double fraction = 0;      // fill the filesystem to this share used
  uint64_t reserve_bytes = 0;
};

}  // namespace faultline::experiments
