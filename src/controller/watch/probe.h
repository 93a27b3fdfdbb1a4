// A probe looks at the system once and says whether it is healthy. Every probe kind shares
// this interface, so the run engine schedules them all the same way.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/duration.h"
#include "experiments/model.h"

namespace faultline::controller {

struct ProbeOutcome {
  ProbeOutcome() = default;
  ProbeOutcome(bool ok_, std::string observed_, Duration latency_)
      : ok(ok_), observed(std::move(observed_)), latency(latency_) {}

  bool ok = false;
  std::string observed;  // "HTTP 200", "connection refused", ...
  Duration latency{};
  // What the probe measures as a number, for charts: the sample of a PromQL query, an SLI's
  // error ratio or quantile. Unset: the latency is the probe's number.
  std::optional<double> value;
  std::optional<double> threshold;  // the limit the value is compared with, if any
  std::string unit;                 // of value and threshold: "ms", "%", "" (a plain number)
};

class Probe {
 public:
  virtual ~Probe() = default;
  virtual const std::string& name() const = 0;
  // Never throws; a probe that cannot run is a failed probe with the reason in `observed`.
  virtual ProbeOutcome run() = 0;
};

}  // namespace faultline::controller
