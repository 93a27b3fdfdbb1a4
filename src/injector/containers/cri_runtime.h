// Containers and pods through the Kubernetes Container Runtime Interface (runtime.v1 gRPC on
// the runtime's socket): containerd, CRI-O. The same API the kubelet uses, so what it finds is
// what Kubernetes runs, with or without a kubelet on the node.
#pragma once

#include <memory>
#include <string>

#include "injector/containers/container_runtime.h"

namespace runtime::v1 {
class RuntimeService;
}

namespace faultline::injector {

class CriRuntime : public ContainerRuntime {
 public:
  // `socket`: a path ("/run/containerd/containerd.sock") or "unix://" address.
  explicit CriRuntime(std::string socket);
  ~CriRuntime() override;

  std::string name() const override { return "cri"; }
  Status ping() override;
  Result<std::vector<ContainerTarget>> find(const pb::ContainerSelector& selector) override;
  Status stop_container(const std::string& id, std::chrono::seconds grace) override;
  Status stop_pod(const std::string& pod_id) override;

 private:
  struct Stub;
  std::string socket_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace faultline::injector
