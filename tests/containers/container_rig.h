// Test support for container targets: the real containerd (CRI) and dockerd of
// tests/support/containers/rig.sh, brought up once per test binary and torn down after it
// (nothing left: pods, netns, bridge, cgroups, ip_forward), and pods made through the CRI.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace faultline::testing {

struct RigEnv {
  std::string cri_socket;     // path
  std::string docker_socket;  // path; "" when dockerd is not up
  std::string subnet;         // pods' /24
  std::string cgroup_parent;  // kubelet-style parent for pods
  std::string busybox_image;
};

// Brings the rig up once (idempotent) and returns its environment; an error says why the
// runtime cannot start on this machine (the tests then skip with that reason).
Result<RigEnv> container_rig();
// Tears the rig down and checks nothing is left; "" when clean, else what was left.
std::string container_rig_down();

struct PodContainer {
  std::string name;
  std::vector<std::string> argv;
  std::map<std::string, std::string> labels;
  int64_t cpu_limit_millis = 0;    // limits.cpu in millicores; 0: none
  int64_t memory_limit_bytes = 0;  // limits.memory; 0: none
  // What a DaemonSet's pod spec gives its container (the injector-from-image test).
  std::string image;  // "": the rig's busybox
  struct Mount {
    std::string host_path, container_path;
    bool readonly = false;
    bool host_to_container = false;  // mountPropagation: HostToContainer
  };
  std::vector<Mount> mounts;
  std::vector<std::string> add_capabilities, drop_capabilities;
  bool readonly_rootfs = false;
  bool seccomp_runtime_default = false;
  std::vector<std::pair<std::string, std::string>> env;
};

struct TestPod {
  std::string id;
  std::string uid;
  std::string ip;
  std::map<std::string, std::string> container_ids;  // by name
};

// A pod through the CRI, as the kubelet makes one (own PID namespace per container, network
// shared with the pod), in namespace faultline-test.
// `host_namespaces`: hostNetwork and hostPID (the node's network and PID namespaces).
Result<TestPod> run_pod(const RigEnv& rig, const std::string& name,
                        const std::map<std::string, std::string>& labels,
                        const std::vector<PodContainer>& containers, bool host_namespaces = false);
// Stops and removes it (its containers too). Idempotent.
void remove_pod(const RigEnv& rig, const std::string& pod_id);
// What the kubelet does when a container dies: a new container of the same name in the same
// pod, with the attempt counted up. Returns its id.
Result<std::string> restart_container(const RigEnv& rig, const TestPod& pod,
                                      const PodContainer& container, uint32_t attempt);
// The CRI state of a container: "running", "exited", "created", "unknown" or "gone".
std::string container_state(const RigEnv& rig, const std::string& container_id);

// The CRI state of a pod: "ready", "notready" or "gone".
std::string pod_state(const RigEnv& rig, const std::string& pod_id);

// `docker run -d --network none [extra...]` a busybox container; returns its id.
Result<std::string> docker_run(const RigEnv& rig, const std::string& name,
                               const std::map<std::string, std::string>& labels,
                               const std::vector<std::string>& argv,
                               const std::vector<std::string>& extra = {});
// `docker inspect -f FORMAT id`, trimmed.
std::string docker_inspect(const RigEnv& rig, const std::string& id, const std::string& format);
void docker_remove(const RigEnv& rig, const std::string& id);

// Runs a command, returns its exit code and output (stdout and stderr).
int run_capture(const std::string& command, std::string* output);

}  // namespace faultline::testing
