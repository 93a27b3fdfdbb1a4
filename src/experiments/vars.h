// ${name} substitution, so one experiment file serves staging and production.
#pragma once

#include <map>
#include <set>
#include <string>

#include "experiments/yaml_reader.h"

namespace faultline::experiments {

// The final value of every var: the file's `vars` (which may refer to the environment and to
// each other), then `overrides` (--var, taken literally). Problems are reported at the var.
std::map<std::string, std::string> resolve_vars(const YAML::Node& vars_node,
                                                const std::map<std::string, std::string>& overrides,
                                                YamlReader& reader);

// Replaces ${name} (from `vars`) and ${env:NAME} / ${env:NAME:-default} (from the
// environment) in every scalar value, in place. An unknown name is reported where it is used;
// the returned (line, column) positions are those scalars, whose other problems are moot.
std::set<std::pair<int, int>> substitute_vars(YAML::Node node,
                                              const std::map<std::string, std::string>& vars,
                                              const std::string& field, YamlReader& reader);

}  // namespace faultline::experiments
