#pragma once

#include <memory>

#include "controller/policy/destination_guard.h"

#include "controller/watch/probe.h"

namespace faultline::controller {

// Opens a TCP connection to host:port within the timeout and closes it.
class TcpProbe : public Probe {
 public:
  TcpProbe(std::string name, experiments::TcpProbeSpec spec, Duration timeout,
           std::shared_ptr<const DestinationGuard> destinations = nullptr);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::TcpProbeSpec spec_;
  Duration timeout_;
  std::shared_ptr<const DestinationGuard> destinations_;
};

}  // namespace faultline::controller
