#include "controller/run_state.h"

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

}  // namespace faultline::controller
