// The container runtimes this injector may ask, from its own configuration (flags or the
// environment it was started with), never from an experiment: a remote submission cannot
// point the root injector at a socket of its choosing.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "injector/containers/container_runtime.h"

namespace faultline::injector {

struct ContainerRuntimeConfig {
  std::string cri_socket;     // "" = none
  std::string docker_socket;  // "" = none

  // FAULTLINE_CRI_SOCKET / FAULTLINE_DOCKER_SOCKET when set (an empty value turns the runtime
  // off), else the first default socket that exists: containerd's, CRI-O's; Docker's.
  static ContainerRuntimeConfig from_environment();
};

class ContainerRuntimes {
 public:
  explicit ContainerRuntimes(ContainerRuntimeConfig config);
  // For tests: runtimes made elsewhere.
  explicit ContainerRuntimes(std::vector<std::shared_ptr<ContainerRuntime>> runtimes);

  // The process-wide set: configured from the environment on first use, or what set_shared
  // gave (the injector's flags). Backends that act through a runtime use it.
  static std::shared_ptr<ContainerRuntimes> shared();
  static void set_shared(std::shared_ptr<ContainerRuntimes> runtimes);

  // Every match in the runtime(s) the selector names: "cri", "docker", or "auto" (each
  // configured runtime that answers), narrowed to `ids` when the selector lists some. A runtime
  // that is not configured, or is down while it is the one asked for, is an error that says which
  // socket.
  Result<std::vector<ContainerTarget>> find(const pb::ContainerSelector& selector);
  // The runtime by name, or an error naming the missing configuration.
  Result<std::shared_ptr<ContainerRuntime>> runtime(const std::string& name);
  // Whether any runtime is configured at all.
  bool configured() const { return !runtimes_.empty(); }
  // "cri:/run/containerd/containerd.sock docker:-": for logs.
  std::string describe() const;

 private:
  Result<std::vector<ContainerTarget>> find_all(const pb::ContainerSelector& selector);

  ContainerRuntimeConfig config_;
  std::vector<std::shared_ptr<ContainerRuntime>> runtimes_;
};

}  // namespace faultline::injector
