// What experiments submitted to the controller (over the API, or fired by a schedule) may make
// it do. The controller runs as root next to credentials and networks; an operator token is
// for running experiments, not for running commands on it or reaching any address from it.
// Without a policy file the safe defaults hold: no commands, no link-local or cloud metadata
// addresses, no files read by path, and the built-in size limits.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "controller/policy/destination_guard.h"
#include "experiments/load_limits.h"

namespace faultline::controller {

struct CommandRule {
  std::string path;  // absolute; argv[0] of a command probe, check or rollback must equal it
  // Where it runs: "" on the controller, else on that injector node (whose policy must allow
  // the path too).
  std::string node;
};

struct ControllerPolicy {
  std::string source = "(built-in defaults)";  // the file, for messages
  std::vector<CommandRule> commands;
  HostRules hosts;
  // Files a probe may name as its ca_file: exact paths, or directories ending in '/'.
  std::vector<std::string> ca_files;
  experiments::LoadLimits limits;
  size_t max_events_per_run = 20'000;

  // The first command rule whose path is `argv0`, or null.
  const CommandRule* command(const std::string& argv0) const;
  bool ca_file_allowed(const std::string& path) const;
  DestinationGuard destinations() const { return DestinationGuard(hosts, source); }
  // Program path -> node for the commands placed on a node (RunEngine routes them there).
  std::map<std::string, std::string> command_nodes() const;

  // The policy in a file; a problem is one error naming file:line:column and the field.
  static Result<ControllerPolicy> load_file(const std::string& path);
  static Result<ControllerPolicy> parse(const std::string& yaml, const std::string& source);
};

}  // namespace faultline::controller
