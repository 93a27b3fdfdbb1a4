#pragma once

#include <memory>

#include "controller/policy/destination_guard.h"

#include "controller/watch/http_url.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

// A PromQL instant query over Prometheus's HTTP API (/api/v1/query); the first sample of the
// result is compared with min/max. No sample fails the probe: "no data" is not "healthy".
class PrometheusProbe : public Probe {
 public:
  PrometheusProbe(std::string name, experiments::PrometheusProbeSpec spec, Duration timeout,
                  std::shared_ptr<const DestinationGuard> destinations = nullptr);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::PrometheusProbeSpec spec_;
  HttpUrl url_;
  Duration timeout_;
  std::shared_ptr<const DestinationGuard> destinations_;
};

}  // namespace faultline::controller
