// ${name} substitution, so one experiment file serves staging and production.
#pragma once

#include <map>
#include <set>
#include <string>

#include "experiments/yaml_reader.h"

namespace faultline::experiments {

// Where ${env:NAME} is looked up: the values given (sent by a client), then, only when
// `process` is set (the CLI, loading its author's file), this process's environment.
struct VarEnvironment {
  bool process = false;
  const std::map<std::string, std::string>* given = nullptr;
};

// The variables a file's text refers to as ${env:NAME} that are set in this process's
// environment, by name: what a CLI sends with an experiment so the controller need not (and
// does not) read its own environment.
std::map<std::string, std::string> referenced_environment(const std::string& yaml_text);

// The final value of every var: the file's `vars` (which may refer to the environment and to
// each other), then `overrides` (--var, taken literally). Problems are reported at the var.
std::map<std::string, std::string> resolve_vars(const YAML::Node& vars_node,
                                                const std::map<std::string, std::string>& overrides,
                                                const VarEnvironment& env, YamlReader& reader);

// Replaces ${name} (from `vars`) and ${env:NAME} / ${env:NAME:-default} (from the
// environment) in every scalar value, in place. An unknown name is reported where it is used;
// the returned (line, column) positions are those scalars, whose other problems are moot.
std::set<std::pair<int, int>> substitute_vars(YAML::Node node,
                                              const std::map<std::string, std::string>& vars,
                                              const VarEnvironment& env, const std::string& field,
                                              YamlReader& reader);

}  // namespace faultline::experiments
