// The experiment model: what an experiment file says, typed and with defaults applied.
// Plain data only. The format itself (keys, types, defaults, limits) is described once in
// experiment_schema.cpp; the loader fills these structs from YAML that passed that schema.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/duration.h"
#include "experiments/diagnostic.h"
#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

using namespace std::chrono_literals;

inline constexpr const char* kApiVersion = "faultline/v1";

struct Metadata {
  std::string name;
  std::string description;
  std::string owner;
  std::map<std::string, std::string> labels;
};

// --- probes ---------------------------------------------------------------------------------

// A comparison of a value read from the system (a JSON field, a PromQL sample).
struct ValueCheck {
  std::optional<std::string> equals;
  std::optional<double> min, max;
};

// An http or tcp probe addressed to every running pod (or container) of a target, at its own
// address, instead of a fixed host.
struct PodEndpoint {
  std::string target;
  int port = 0;
  std::string path = "/";  // http only
};

struct HttpProbeSpec {
  std::string url;  // empty when `pods` is set
  std::optional<PodEndpoint> pods;
  std::string method = "GET";
  std::map<std::string, std::string> headers;
  std::string body;
  std::vector<int> expect_status{200};
  std::optional<std::pair<int, int>> expect_status_range;  // inclusive
  std::string body_regex;
  std::string json_path;  // with json_check
  ValueCheck json_check;
  std::optional<Duration> max_latency;
  std::string ca_file;
  Duration timeout = 2s;
};

struct TcpProbeSpec {
  std::string address;  // host:port; empty when `pods` is set
  std::optional<PodEndpoint> pods;
};

struct GrpcHealthProbeSpec {
  std::string address;
  std::string service;
  std::string ca_file;
};

struct CommandProbeSpec {
  std::vector<std::string> argv;
  int expect_exit = 0;
  std::string output_regex;
};

// A process matching the target's selector is alive on every node of the target.
struct ProcessAliveSpec {
  std::string target;
};

struct PrometheusProbeSpec {
  std::string url;
  std::string query;
  ValueCheck check;
};

// A service level indicator computed from trace spans the OTLP receiver gets.
// Where a trace SLI's spans come from: the controller's OTLP receiver (pushed to it), or a
// Jaeger query API / Zipkin v2 API the controller polls.
struct SpanSource {
  enum class Kind { kOtlp, kZipkin, kJaeger };
  Kind kind = Kind::kOtlp;
  std::string url;  // base URL of the query API (zipkin, jaeger)
  Duration poll_interval = 1s;
};

struct SliCondition {
  SpanSource source;
  std::string service;
  std::string span;
  std::optional<double> error_rate_above;  // fraction
  std::optional<Duration> p50_above, p95_above, p99_above;
  Duration window = 30s;
  int min_spans = 20;
  double confidence = 0.95;
};

// Recovery only: the target's processes that the faults hit were replaced by new ones.
struct ProcessRestartedSpec {
  std::string target;
};

// Recovery only: the containers or pods the faults hit run again (a new container in the same
// pod, a higher restart count, or a new sandbox of the same pod).
struct ContainerRestartedSpec {
  std::string target;
};

using ProbeKind = std::variant<HttpProbeSpec, TcpProbeSpec, GrpcHealthProbeSpec, CommandProbeSpec,
                               ProcessAliveSpec, PrometheusProbeSpec, SliCondition,
                               ProcessRestartedSpec, ContainerRestartedSpec>;

// How the scheduler runs a probe.
struct ProbeTiming {
  Duration timeout = 2s;
  int retries = 0;
  Duration initial_delay{};
  std::optional<Duration> interval;  // where polled; default from the context
};

struct ProbeSpec {
  std::string name;
  SourceLocation where;
  ProbeKind kind;
  ProbeTiming timing;
};

// --- targets --------------------------------------------------------------------------------

// How many of the matching things (nodes, processes) are hit. The default is one: the
// smallest blast radius.
struct Selection {
  enum class Mode { kOne, kAll, kCount, kPercent };
  Mode mode = Mode::kOne;
  int count = 1;          // kCount
  double fraction = 1.0;  // kPercent
};

struct NodeSelection {
  std::map<std::string, std::string> selector;  // empty: every node
  Selection select;
  std::optional<uint32_t> seed;
};

// Exactly one of name, cmdline, pidfile, cgroup, pid is set.
struct ProcessSelector {
  std::string name;
  std::string cmdline;
  std::string pidfile;
  std::string cgroup;
  int pid = 0;
  std::string pid_namespace;
  bool skip_if_empty = false;  // on_empty: skip
};

// A container (`container:`) or Kubernetes pod (`pod:`), found on each node through its
// container runtime. Empty fields do not narrow; labels must all match.
struct ContainerSelector {
  bool pod = false;
  std::string runtime = "auto";  // auto | cri | docker
  std::string id;
  std::string name;  // the container's name (in a pod: which of its containers)
  std::string image;
  std::map<std::string, std::string> labels;
  std::string pod_namespace;
  std::string pod_name;
  std::map<std::string, std::string> pod_labels;
  // Which of the matches on every selected node are hit (seeded with the target's nodes).
  Selection select;
  bool skip_if_empty = false;  // on_empty: skip
};

struct NetworkScope {
  std::string netns;
  std::string interface;
  std::vector<std::string> destinations;  // CIDRs
  std::vector<int> ports;
  std::string protocol = "all";      // all | tcp | udp | icmp
  std::string direction = "egress";  // egress | ingress | both
};

// A TCP fault proxy on the node (`faultline proxy`, or Toxiproxy), by its name in the proxy's
// API; its faults are toxics the proxy applies, so they need no privileges.
struct ProxyTarget {
  std::string name;
  std::string api = "127.0.0.1:8474";  // host:port, a loopback address
};

struct TargetSpec {
  std::string name;
  SourceLocation where;
  NodeSelection nodes;
  std::optional<ContainerSelector> container;  // with process/network: inside it
  std::optional<ProcessSelector> process;
  std::optional<NetworkScope> network;
  std::vector<std::string> paths;
  std::optional<ProxyTarget> proxy;
};

// --- faults --------------------------------------------------------------------------------
// Each kind's params are its own struct, declared beside its entry in the fault-kind table
// (experiments/kinds/<kind>.h).

// A node that fails to apply a fault (refused, unreachable, disconnected): end the run (every
// fault reverted) or go on with the nodes that applied it.
enum class NodeFailurePolicy { kAbort, kContinue };

struct FaultSpec {
  std::string name;
  std::string kind;
  std::string target;
  Duration duration{};  // 0 for instantaneous faults such as a kill
  Duration start{};     // extra delay before the fault starts
  std::string after;    // start when this fault has ended
  int repeat_count = 1;
  Duration repeat_interval{};
  // What the run does when the fault cannot be applied on some of its nodes; unset: the
  // experiment's on_node_failure.
  std::optional<NodeFailurePolicy> on_node_failure;
  SourceLocation where;
  KindParamsPtr params;  // the kind's struct: params_as<NetworkDelayParams>(f.params)
};

// The method as written: faults, pauses and blocks. Faults are referred to by index into
// Experiment::faults so the tree and the flat list never disagree.
struct Step {
  enum class Kind { kFault, kPause, kParallel, kSequential };
  Kind kind = Kind::kFault;
  std::string name;
  size_t fault_index = 0;  // kFault
  Duration pause{};        // kPause
  std::vector<Step> children;
  SourceLocation where;
};

// --- guardrails, recovery, rollbacks, reports ------------------------------------------------

struct Guardrail {
  std::string name;
  SourceLocation where;
  ProbeKind probe;  // an `sli` guardrail is a traces probe
  ProbeTiming timing;
  Duration hold_for{};  // `for`
  Duration interval = 100ms;
};

struct RecoverySpec {
  Duration deadline = 30s;
  Duration interval = 100ms;
  std::vector<ProbeSpec> checks;
};

struct CommandAction {
  std::vector<std::string> argv;
  Duration timeout = 30s;
};

struct RollbackAction {
  std::string name;
  SourceLocation where;
  std::variant<CommandAction, HttpProbeSpec> action;
  std::vector<std::string> on;  // empty: every ending
};

struct ReportSpec {
  std::string junit, json, html;
};

struct Experiment {
  std::string source_file;
  std::string api_version = kApiVersion;
  Metadata metadata;
  std::map<std::string, std::string> vars;  // after overrides
  Duration max_duration = 30min;
  NodeFailurePolicy on_node_failure = NodeFailurePolicy::kAbort;
  std::vector<TargetSpec> targets;
  std::vector<ProbeSpec> steady_state;
  std::vector<FaultSpec> faults;  // every fault in document order
  Step method;                    // the sequential root block
  std::vector<Guardrail> abort_when;
  std::optional<RecoverySpec> recovery;
  std::vector<RollbackAction> rollbacks;
  ReportSpec report;

  const TargetSpec* find_target(const std::string& name) const {
    for (const auto& t : targets)
      if (t.name == name) return &t;
    return nullptr;
  }
  NodeFailurePolicy node_failure_policy(const FaultSpec& f) const {
    return f.on_node_failure.value_or(on_node_failure);
  }
  const FaultSpec* find_fault(const std::string& name) const {
    for (const auto& f : faults)
      if (f.name == name) return &f;
    return nullptr;
  }
};

}  // namespace faultline::experiments
