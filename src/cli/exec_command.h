// `faultline exec -- CMD ARGS...`: starts a target under faultline's control, so faults that
// need the target's cooperation (clock_skew) can reach it. The target and everything it
// starts read wall-clock time through libfaketime, steered by a control file that a
// clock_skew fault rewrites; with no fault active the offset is zero.
#pragma once

#include <string>
#include <vector>

namespace faultline::cli {

// Returns the target's exit code (128+N if killed by signal N), or 3 if it cannot start.
int exec_target(const std::vector<std::string>& argv);

}  // namespace faultline::cli
