// Names and exit codes of a run's states: what every report and the CLI show, without the run
// engine itself.
#pragma once

#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

// The exit code `faultline run` uses for a final state.
int exit_code_for(v1::RunState state);
const char* state_name(v1::RunState state);
// How long a finished run took: its monotonic duration, or for runs stored before that was
// kept, the wall-clock difference (never negative).
int64_t run_duration_ms(const v1::RunSummary& summary);

}  // namespace faultline::controller
