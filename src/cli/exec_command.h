// `faultline exec -- CMD ARGS...`: starts a target under faultline's control, so faults that
// need the target's cooperation (clock_skew) can reach it. The target and everything it
// starts read wall-clock time through libfaketime, steered by a control file that a
// clock_skew fault rewrites; with no fault active the offset is zero. With all_clocks, the
// monotonic and boottime clocks are faked too (libfaketime applies one offset to every clock
// it fakes). Time namespaces cannot do this: their offsets are frozen once a process lives
// in them, so a skew could not come and go during a run.
#pragma once

#include <string>
#include <vector>

namespace faultline::cli {

// Returns the target's exit code (128+N if killed by signal N), or 3 if it cannot start.
int exec_target(const std::vector<std::string>& argv, bool all_clocks = false);

}  // namespace faultline::cli
