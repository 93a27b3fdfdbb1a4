#pragma once

#include <memory>

#include "controller/policy/destination_guard.h"

#include <grpcpp/grpcpp.h>

#include "controller/watch/probe.h"

namespace faultline::controller {

// grpc.health.v1.Health/Check for a service name; passes on SERVING.
class GrpcHealthProbe : public Probe {
 public:
  // With `destinations`, the channel dials the address checked for the host when it is made.
  GrpcHealthProbe(std::string name, experiments::GrpcHealthProbeSpec spec, Duration timeout,
                  std::shared_ptr<const DestinationGuard> destinations = nullptr);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::GrpcHealthProbeSpec spec_;
  Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string refused_;  // why the destination was refused, "" when allowed
};

}  // namespace faultline::controller
