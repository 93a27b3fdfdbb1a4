// Checks a YAML tree against the format's Schema: types, units, ranges, enums, required and
// unknown keys (with "did you mean"). Reports every problem; never stops at the first.
#pragma once

#include "experiments/param_values.h"
#include "experiments/schema.h"
#include "experiments/yaml_reader.h"

namespace faultline::experiments {

// With `typed_params`, the typed values of every fault's params that passed are kept there
// (by the field of the params object), so the loader reads them without parsing again.
void validate_against_schema(const YAML::Node& node, const Schema& schema, const std::string& field,
                             YamlReader& reader, TypedParams* typed_params = nullptr);

}  // namespace faultline::experiments
