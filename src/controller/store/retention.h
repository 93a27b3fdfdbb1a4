// Reading the controller's retention flags (--retain-runs, --retain-for).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace faultline::controller {

// A retention age: days ("30d") and/or a duration ("12h", "1d12h", "90m"), in milliseconds.
// Errors name the text.
Result<int64_t> parse_retention_age(const std::string& text);

}  // namespace faultline::controller
