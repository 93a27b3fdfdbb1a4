#pragma once

#include "controller/watch/probe.h"

namespace faultline::controller {

// Runs a program (Boost.Process, no shell) and checks its exit code and output.
class CommandProbe : public Probe {
 public:
  CommandProbe(std::string name, experiments::CommandProbeSpec spec, Duration timeout);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::CommandProbeSpec spec_;
  Duration timeout_;
};

}  // namespace faultline::controller
