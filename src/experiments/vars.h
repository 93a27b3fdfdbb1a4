// ${name} substitution, so one experiment file serves staging and production.
#pragma once

#include <map>
#include <string>

#include "experiments/yaml_reader.h"

namespace faultline::experiments {

// Replaces ${name} (from `vars`) and ${env:NAME} / ${env:NAME:-default} (from the
// environment) in every scalar value, in place. An unknown name is reported where it is used.
void substitute_vars(YAML::Node node, const std::map<std::string, std::string>& vars,
                     const std::string& field, YamlReader& reader);

}  // namespace faultline::experiments
