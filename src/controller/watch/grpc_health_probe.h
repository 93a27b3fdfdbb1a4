#pragma once

#include <grpcpp/grpcpp.h>

#include "controller/watch/probe.h"

namespace faultline::controller {

// grpc.health.v1.Health/Check for a service name; passes on SERVING.
class GrpcHealthProbe : public Probe {
 public:
  GrpcHealthProbe(std::string name, experiments::GrpcHealthProbeSpec spec, Duration timeout);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::GrpcHealthProbeSpec spec_;
  Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace faultline::controller
