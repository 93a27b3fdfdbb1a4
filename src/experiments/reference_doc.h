// docs/experiment-reference.md, generated from experiment_schema.cpp so the reference can
// never drift from what the loader accepts (a test compares the committed file).
#pragma once

#include <string>

namespace faultline::experiments {

std::string reference_markdown();

// A value of the schema's type as a user would write it, for docs and examples.
std::string example_value(const struct Schema& s);

}  // namespace faultline::experiments
