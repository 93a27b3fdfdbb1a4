// A probe looks at the system once and says whether it is healthy. Every probe kind shares
// this interface, so the run engine schedules them all the same way.
#pragma once

#include <memory>
#include <string>

#include "common/duration.h"
#include "experiments/model.h"

namespace faultline::controller {

struct ProbeOutcome {
  bool ok = false;
  std::string observed;  // "HTTP 200", "connection refused", ...
  Duration latency{};
};

class Probe {
 public:
  virtual ~Probe() = default;
  virtual const std::string& name() const = 0;
  // Never throws; a probe that cannot run is a failed probe with the reason in `observed`.
  virtual ProbeOutcome run() = 0;
};

}  // namespace faultline::controller
