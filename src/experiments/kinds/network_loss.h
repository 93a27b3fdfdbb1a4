// network_loss: drop packets in the target's network scope, independently or in bursts.
#pragma once

#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct NetworkLossParams : KindParams {
  double fraction = 0;
  double correlation = 0;
  std::string model;  // random | gilbert-elliott
  double p = 0, r = 0, loss_bad = 0, loss_good = 0;
  std::string backend;
};

}  // namespace faultline::experiments
