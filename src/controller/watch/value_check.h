// Compares a value read from a response (a JSON field, a PromQL sample) with the probe's limits.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "experiments/model.h"

namespace faultline::controller {

// "" when the value passes, else why not ("12.5 is above the maximum 10").
std::string check_value(const experiments::ValueCheck& check, const nlohmann::json& value);
// The field at a dot path ("data.items.0.state"); null when absent.
const nlohmann::json* json_at(const nlohmann::json& doc, const std::string& path);
std::string value_text(const nlohmann::json& value);

}  // namespace faultline::controller
