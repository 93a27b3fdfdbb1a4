// Checks a YAML tree against the format's Schema: types, units, ranges, enums, required and
// unknown keys (with "did you mean"). Reports every problem; never stops at the first.
#pragma once

#include <optional>

#include "common/duration.h"

#include "experiments/schema.h"
#include "experiments/yaml_reader.h"

namespace faultline::experiments {

void validate_against_schema(const YAML::Node& node, const Schema& schema,
                             const std::string& field, YamlReader& reader);

// Signal names people write: "SIGKILL", "KILL", "sigterm"; or a number 1..64.
std::optional<int> parse_signal(std::string text);

// Signed duration: "+5m", "-90s", "30s".
std::optional<Duration> parse_signed_duration(const std::string& text);

}  // namespace faultline::experiments
