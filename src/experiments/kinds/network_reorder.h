// network_reorder: send a share of packets at once, ahead of delayed ones.
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct NetworkReorderParams : KindParams {
  double fraction = 0;
  double correlation = 0;
  Duration delay{};
  int gap = 0;
  std::string backend;
};

}  // namespace faultline::experiments
