// How big an experiment may be. A file is read by the CLI of its author and, submitted, by a
// controller that serves everyone: a hostile or careless file must cost milliseconds and
// bounded memory, and be refused with the line that crossed the limit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "experiments/diagnostic.h"
#include "experiments/yaml_reader.h"

namespace faultline::experiments {

struct LoadLimits {
  size_t max_bytes = 1 << 20;  // the file's text
  // YAML nodes and scalar bytes once every alias (*name) is expanded: a few hundred bytes of
  // nested aliases otherwise stand for billions of nodes (the "billion laughs").
  size_t max_nodes = 100'000;
  size_t max_expanded_bytes = 8 << 20;
  size_t max_depth = 64;
  size_t max_faults = 200;
  size_t max_probes = 200;  // steady_state + guardrails + recovery checks + rollbacks
  size_t max_steps = 200;   // the timeline's steps
};

// The first limit `yaml_text` crosses before it is loaded (size, depth, expanded nodes or
// bytes), as a diagnostic at the line and column where it crossed; nullopt when within them.
// One pass over the parser's events, linear in the text: no node is built.
std::optional<Diagnostic> check_yaml_size(std::string_view yaml_text, const std::string& source,
                                          const LoadLimits& limits);

// Reports (at the first element past the limit) an experiment with more faults, probes or
// steps than `limits` allow; false when it did.
bool check_experiment_counts(const YAML::Node& root, const LoadLimits& limits, YamlReader& reader);

}  // namespace faultline::experiments
