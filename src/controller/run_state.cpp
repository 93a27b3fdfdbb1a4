#include "controller/run_state.h"

#include <algorithm>

#include "common/exit_codes.h"

namespace faultline::controller {

int exit_code_for(v1::RunState state) {
  switch (state) {
    case v1::RUN_STATE_PASSED:
      return kExitPassed;
    case v1::RUN_STATE_FAILED:
      return kExitHypothesisFailed;
    case v1::RUN_STATE_ABORTED:
      return kExitAborted;
    default:
      return kExitInvalidOrInfra;
  }
}

const char* state_name(v1::RunState state) {
  switch (state) {
    case v1::RUN_STATE_PENDING:
      return "PENDING";
    case v1::RUN_STATE_STEADY_STATE_CHECK:
      return "STEADY_STATE_CHECK";
    case v1::RUN_STATE_INJECTING:
      return "INJECTING";
    case v1::RUN_STATE_RECOVERING:
      return "RECOVERING";
    case v1::RUN_STATE_PASSED:
      return "PASSED";
    case v1::RUN_STATE_FAILED:
      return "FAILED";
    case v1::RUN_STATE_ABORTED:
      return "ABORTED";
    case v1::RUN_STATE_ERROR:
      return "ERROR";
    default:
      return "UNKNOWN";
  }
}

int64_t run_duration_ms(const v1::RunSummary& summary) {
  if (summary.duration_ms() > 0) return summary.duration_ms();
  return std::max<int64_t>(0, summary.ended_unix_ms() - summary.started_unix_ms());
}

}  // namespace faultline::controller
