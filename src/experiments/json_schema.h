// `faultline schema`: the experiment format as JSON Schema (draft 2020-12), generated from
// experiment_schema.cpp, so editors complete and check experiment files as the loader does.
#pragma once

#include <string>

namespace faultline::experiments {

// Pretty-printed JSON.
std::string json_schema();

}  // namespace faultline::experiments
