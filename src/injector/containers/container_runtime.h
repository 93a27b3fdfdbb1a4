// The seam between faultline and a node's container runtime: find the containers and pods a
// selector names, as the host sees them (PIDs, cgroups, network namespace), and stop them.
// Implementations talk to the runtime's own API on the node (CRI socket, Docker Engine API);
// nothing here trusts a path or name that comes from inside a container.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

// One running container as the host sees it.
struct ContainerMember {
  std::string id;
  std::string name;
  std::string image;
  std::map<std::string, std::string> labels;
  pid_t pid = 0;               // host PID of the container's first process
  std::string cgroup;          // relative to the cgroup mounts, e.g. /kubepods/pod<uid>/<id>
  uint32_t restart_count = 0;  // CRI: metadata.attempt; Docker: RestartCount
};

// What one fault target resolves to: a pod (with the containers chosen in it) or one
// container (a Docker container, or one CRI container with its pod's network namespace).
struct ContainerTarget {
  std::string runtime;  // "cri" or "docker"
  bool pod = false;
  std::string pod_id, pod_uid, pod_namespace, pod_name;
  std::map<std::string, std::string> pod_labels;
  std::vector<ContainerMember> members;
  std::string netns;  // path of the network namespace (a bind mount, or /proc/PID/ns/net)
  uint64_t netns_inode = 0;
  std::string ip;

  // "pod shop/checkout-7d9", "container web (3f2a9c1b0d4e)": for messages and plans.
  std::string describe() const;
  pb::TouchedContainer touched() const;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  // "cri" or "docker".
  virtual std::string name() const = 0;
  // Whether the runtime answers on its socket now.
  virtual Status ping() = 0;
  // Running containers (or ready pods) matching the selector on this node; empty when none.
  virtual Result<std::vector<ContainerTarget>> find(const pb::ContainerSelector& selector) = 0;
  // Stops a container as a crash would (SIGTERM, then SIGKILL after `grace`), so the
  // runtime's restart policy or the kubelet brings it back.
  virtual Status stop_container(const std::string& id, std::chrono::seconds grace) = 0;
  // Stops a pod sandbox and every container in it (CRI only).
  virtual Status stop_pod(const std::string& pod_id) = 0;
};

// The host's view of a process's cgroup: the path of its freezer (else memory, else v2)
// hierarchy in /proc/PID/cgroup, which the kernel writes (so a container cannot forge it).
Result<std::string> process_cgroup(pid_t pid);

// Whether every key=value of `want` is in `have`.
bool labels_match(const std::map<std::string, std::string>& want,
                  const std::map<std::string, std::string>& have);

// Image references match exactly, or by repository when `want` has no tag or digest
// ("nginx" matches "nginx:1.25" and "docker.io/library/nginx:1.25").
bool image_matches(const std::string& want, const std::string& have);

// "pod shop/checkout-7d9", "container web (3f2a9c1b0d4e)": for summaries.
std::string describe_touched(const pb::TouchedContainer& touched);

// "pod labels app=checkout", "container name=web": for messages.
std::string describe(const pb::ContainerSelector& selector);

}  // namespace faultline::injector
