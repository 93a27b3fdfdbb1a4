// The experiment model: what an experiment file says, typed and with defaults applied.
// Plain data only; the loader fills it and reports problems with source locations.
#pragma once

#include <csignal>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/duration.h"
#include "experiments/diagnostic.h"

namespace faultline::experiments {

using namespace std::chrono_literals;

inline constexpr const char* kApiVersion = "faultline/v1";

struct Metadata {
  std::string name;  // required; lowercase letters, digits and '-'
  std::string description;
  std::string owner;
  std::map<std::string, std::string> labels;
};

// --- probes ---------------------------------------------------------------------------------

struct HttpProbeSpec {
  std::string url;  // http://host:port/path
  std::string method = "GET";
  std::vector<int> expect_status{200};
  Duration timeout = 2s;
};

struct ProbeSpec {
  std::string name;
  SourceLocation where;
  std::variant<HttpProbeSpec> kind;
};

// --- targets --------------------------------------------------------------------------------

enum class NodeMode { kOne, kAll };

// Which injectors (nodes) a target hits. An empty selector matches every injector; the default
// mode hits one of them, the smallest blast radius.
struct NodeSelection {
  std::map<std::string, std::string> selector;
  NodeMode mode = NodeMode::kOne;
};

// Which processes on a node. Exactly one field is set.
struct ProcessSelector {
  std::string name;     // matches /proc/PID/comm or the basename of argv[0]
  std::string pidfile;  // path to a file holding a PID
  std::string cmdline;  // ECMAScript regex over the full command line (args joined by ' ')
  int pid = 0;
};

struct TargetSpec {
  std::string name;
  SourceLocation where;
  NodeSelection nodes;
  std::optional<ProcessSelector> process;
};

// --- faults ---------------------------------------------------------------------------------

enum class ProcessMode { kOne, kAll };

struct ProcessKillParams {
  int signal = SIGKILL;
  ProcessMode mode = ProcessMode::kOne;
};

struct ProcessPauseParams {
  ProcessMode mode = ProcessMode::kOne;
};

using FaultParams = std::variant<ProcessKillParams, ProcessPauseParams>;

struct FaultSpec {
  std::string name;
  std::string kind;    // "process_kill", "process_pause"
  std::string target;  // name of a TargetSpec
  // How long the fault stays applied before it is reverted. Zero suits instantaneous faults
  // such as a kill; a pause needs a positive duration.
  Duration duration = Duration::zero();
  SourceLocation where;
  FaultParams params;
};

struct RecoverySpec {
  Duration deadline = 30s;    // all checks must pass within this after the faults end
  Duration interval = 100ms;  // how often checks are polled while waiting
  std::vector<ProbeSpec> checks;
};

struct Experiment {
  std::string source_file;
  std::string api_version = kApiVersion;
  Metadata metadata;
  Duration max_duration = 30min;  // safety limit: the sum of fault windows may not exceed it
  std::vector<TargetSpec> targets;
  std::vector<ProbeSpec> steady_state;
  std::vector<FaultSpec> faults;
  std::optional<RecoverySpec> recovery;

  const TargetSpec* find_target(const std::string& name) const {
    for (const auto& t : targets)
      if (t.name == name) return &t;
    return nullptr;
  }
};

// Fault kinds the model knows, in the order docs list them.
const std::vector<std::string>& known_fault_kinds();

}  // namespace faultline::experiments
