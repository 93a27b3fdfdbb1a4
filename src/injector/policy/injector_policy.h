// The injector-local policy: what this injector may EVER do, whatever a controller asks.
// It is defence in depth: a compromised or misconfigured controller (or a wrong experiment)
// cannot make a node do more than the node's own operator wrote down. Reference and
// examples: docs/policy.md, deploy/policy/example-policy.yaml.
//
//   allow:
//     kinds: [process_kill, network_delay]   # required; names as fault_kind_name() returns
//     interfaces: [eth0, "veth*"]            # network faults: glob on the interface
//     network_namespaces: [self, "/run/netns/lab-*"]   # absent = only the injector's own
//     processes:                             # process faults: every target must match one
//       - name: "demo-*"                     #   glob on comm or argv[0]'s basename
//       - cmdline: "^/usr/bin/python3 app.py"   # regex, matched from the start
//       - cgroup: "/system.slice/app.service*"  # glob on the cgroup path
//     paths: ["/var/tmp/chaos/*", "/data"]   # disk_fill / io_fault: the path or a parent
//     containers:                            # pod: and container: targets: every one touched
//       - namespace: "shop-*"                #   must match a rule. Globs on the pod's
//         labels: {chaos: allowed}           #   namespace, pod, container name, image; the
//       - {runtime: docker, name: "redis-*"} #   labels (pod's, or Docker container's) all match
//     max_duration: 10m                      # caps every fault's hard maximum
//     commands: [/usr/local/bin/check-db]    # programs a controller may run here for command
//                                            #   probes/rollbacks it delegates (exact paths)
//
// Fields of one processes rule must all match (AND); rules are alternatives (OR). A section
// that is absent allows nothing of its sort: with no `interfaces`, no network fault passes.
// A container that a containers rule allows is the whole rule for what is inside it (its
// processes, network namespace and files); the other sections judge the node's own.
// Unknown keys are errors, so a typo never silently widens (or narrows) the policy.
#pragma once

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

struct ProcessRule {
  std::string name;     // glob on /proc/PID/comm or argv[0]'s basename; "" = any
  std::string cmdline;  // ECMAScript regex, matched from the start of the command line
  std::string cgroup;   // glob on the process's cgroup path ("*" crosses "/")
  std::optional<std::regex> cmdline_re;

  // "name=demo-* cmdline=^/usr/bin/x", for messages.
  std::string describe() const;
};

struct ContainerRule {
  std::string runtime;     // "cri" or "docker"; "" = any
  std::string namespace_;  // glob on the pod's Kubernetes namespace
  std::string pod;         // glob on the pod's name
  std::string name;        // glob on the container's name (every chosen container of a pod)
  std::string image;       // glob on the image reference
  std::map<std::string, std::string> labels;  // all must match

  bool matches(const pb::TouchedContainer& c) const;
  std::string describe() const;
};

class InjectorPolicy {
 public:
  // Errors read "FILE:LINE:COL: field: what is wrong (expected ...)".
  static Result<InjectorPolicy> load_file(const std::string& path);
  // `source` names the text in messages (a file name).
  static Result<InjectorPolicy> parse(const std::string& yaml, const std::string& source);

  // Ok, or kPermissionDenied: "refused by injector policy (FILE): <rule that refused>".
  // Looks at the live system (processes a selector matches, the default route's interface),
  // so call it right before applying.
  // `containers`: what the fault's pod and container selectors resolved to on this node.
  Status check(const pb::FaultSpec& spec,
               const std::vector<pb::TouchedContainer>& containers = {}) const;

  // The hard maximum a fault gets: `requested`, capped at max_duration when one is set.
  Duration cap(Duration requested) const;
  // Ok, or kPermissionDenied naming the policy: may a controller run `argv` on this node?
  // Only exact paths listed in allow.commands; no policy, no commands.
  Status check_command(const std::vector<std::string>& argv) const;

  const std::string& source() const { return source_; }
  const std::vector<std::string>& kinds() const { return kinds_; }
  std::optional<Duration> max_duration() const { return max_duration_; }
  // "kinds=a,b interfaces=eth0 ..." for the start-up log line.
  std::string summary() const;

 private:
  InjectorPolicy() = default;

  // Each returns why the fault is refused, or "".
  std::string refusal(const pb::FaultSpec& spec,
                      const std::vector<pb::TouchedContainer>& containers) const;
  std::string check_containers(const std::string& kind,
                               const std::vector<pb::TouchedContainer>& containers) const;
  // `chosen_later` says why the fault picks targets after this check ("" when it does not).
  std::string check_processes(const std::string& kind, const pb::ProcessSelector& selector,
                              const std::string& chosen_later) const;
  std::string check_network(const std::string& kind, const pb::NetworkScope& scope) const;
  std::string check_path(const std::string& kind, const std::string& path) const;

  std::string source_;
  std::vector<std::string> kinds_;
  std::optional<std::vector<std::string>> interfaces_;
  std::optional<std::vector<std::string>> network_namespaces_;
  std::optional<std::vector<ProcessRule>> processes_;
  std::optional<std::vector<std::string>> paths_;
  std::optional<std::vector<ContainerRule>> containers_;
  std::optional<Duration> max_duration_;
  std::vector<std::string> commands_;

  friend class PolicyParser;
};

}  // namespace faultline::injector
