// An http or tcp probe addressed to a target's pods (`target: checkout, port: 8080`) instead of
// a fixed host: at every run it lists the target's running pods (or containers) on each node
// through the injectors, and runs the probe against each one's address. It passes when every
// one answers; a pod that came back with a new address is probed at that address.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/link/injector_link.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

class PodEndpointsProbe : public Probe {
 public:
  // Makes the probe for one endpoint ("10.88.0.7:8080", "[fd00::7]:8080").
  using MakeOne = std::function<std::unique_ptr<Probe>(const std::string& host_port)>;

  PodEndpointsProbe(std::string name, std::string target, int port, pb::ContainerSelector selector,
                    std::vector<std::shared_ptr<InjectorLink>> nodes, MakeOne make);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_, target_;
  int port_;
  pb::ContainerSelector selector_;
  std::vector<std::shared_ptr<InjectorLink>> nodes_;
  MakeOne make_;
};

// "10.0.0.7:8080", or "[fd00::7]:8080" for an IPv6 address.
std::string endpoint(const std::string& ip, int port);

}  // namespace faultline::controller
