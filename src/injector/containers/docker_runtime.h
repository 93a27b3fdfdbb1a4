// Containers through the Docker Engine API on its unix socket (dockerd; Podman's compatible
// service answers the same calls). API version 1.41: dockerd 20.10 and every later one.
#pragma once

#include <string>

#include "injector/containers/container_runtime.h"

namespace faultline::injector {

class DockerRuntime : public ContainerRuntime {
 public:
  // `socket`: a path ("/var/run/docker.sock") or "unix://" address.
  explicit DockerRuntime(std::string socket);

  std::string name() const override { return "docker"; }
  Status ping() override;
  Result<std::vector<ContainerTarget>> find(const pb::ContainerSelector& selector) override;
  Status stop_container(const std::string& id, std::chrono::seconds grace) override;
  Status stop_pod(const std::string& pod_id) override;

 private:
  std::string socket_;
};

}  // namespace faultline::injector
