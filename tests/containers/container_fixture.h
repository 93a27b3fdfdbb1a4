// The fixture every container test shares: the rig (real containerd and dockerd, up once per
// binary, torn down and checked clean after the last test), pods and Docker containers that
// are removed after each test, and a fault engine wired to the runtimes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "container_rig.h"
#include "injector/containers/container_runtimes.h"
#include "injector/fault_engine.h"
#include "support/two_hosts.h"

namespace faultline::testing {

using namespace std::chrono_literals;
namespace pb = ::faultline::v1;
using injector::ContainerRuntimeConfig;
using injector::ContainerRuntimes;

inline PingStats ping(const std::string& ip, int count) {
  std::string out;
  run_capture("ping -n -c " + std::to_string(count) + " -i 0.05 -W 2 " + ip, &out);
  return parse_ping(out);
}

inline std::string unique(const std::string& base) {
  static int n = 0;
  return base + "-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

// The environment a `faultline` CLI (an embedded run) reads, for one test: its state
// directory and the runtimes' sockets; put back when the test ends, failed or not.
class CliEnvironment {
 public:
  CliEnvironment(const std::string& state_dir, const std::string& cri_socket,
                 const std::string& docker_socket) {
    setenv("FAULTLINE_STATE_DIR", state_dir.c_str(), 1);
    setenv("FAULTLINE_CRI_SOCKET", cri_socket.c_str(), 1);
    setenv("FAULTLINE_DOCKER_SOCKET", docker_socket.c_str(), 1);
  }
  ~CliEnvironment() {
    for (const char* name :
         {"FAULTLINE_STATE_DIR", "FAULTLINE_CRI_SOCKET", "FAULTLINE_DOCKER_SOCKET"})
      unsetenv(name);
  }
  CliEnvironment(const CliEnvironment&) = delete;
  CliEnvironment& operator=(const CliEnvironment&) = delete;
};

class ContainerTargets : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = container_rig();
    if (!r) GTEST_SKIP() << "no container runtime on this machine: " << r.error().message;
    rig_ = *r;
    ContainerRuntimeConfig c;
    c.cri_socket = rig_.cri_socket;
    c.docker_socket = rig_.docker_socket;
    runtimes_ = std::make_shared<ContainerRuntimes>(c);
    ContainerRuntimes::set_shared(runtimes_);
  }
  void TearDown() override {
    for (const auto& id : pods_) remove_pod(rig_, id);
    for (const auto& id : dockers_) docker_remove(rig_, id);
  }

  TestPod pod(const std::string& name, std::map<std::string, std::string> labels,
              std::vector<PodContainer> containers = {}) {
    if (containers.empty()) containers = {{"web", {"httpd", "-f", "-p", "8080", "-h", "/www"}, {}}};
    auto p = run_pod(rig_, name, labels, containers);
    EXPECT_TRUE(p) << p.error().message;
    if (!p) return {};
    pods_.push_back(p->id);
    return *p;
  }

  pb::ContainerSelector pod_selector(std::map<std::string, std::string> labels) {
    pb::ContainerSelector s;
    s.set_pod(true);
    s.set_runtime("cri");
    s.set_pod_namespace("faultline-test");
    s.mutable_pod_labels()->insert(labels.begin(), labels.end());
    return s;
  }

  pb::FaultSpec delay_in(const pb::ContainerSelector& target, uint64_t delay_ms) {
    pb::FaultSpec spec;
    auto* d = spec.mutable_network_delay();
    *d->mutable_scope()->mutable_container() = target;
    d->mutable_scope()->set_direction("egress");
    d->mutable_scope()->set_protocol("all");
    d->set_delay_us(delay_ms * 1000);
    d->set_distribution("uniform");
    d->set_backend("auto");
    return spec;
  }

  std::unique_ptr<injector::FaultEngine> engine() {
    auto e = std::make_unique<injector::FaultEngine>(injector::default_backends());
    e->set_container_runtimes(runtimes_);
    return e;
  }

  RigEnv rig_;
  std::shared_ptr<ContainerRuntimes> runtimes_;
  std::vector<std::string> pods_;
  std::vector<std::string> dockers_;
};

}  // namespace faultline::testing
