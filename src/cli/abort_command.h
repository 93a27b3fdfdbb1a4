#pragma once

#include <string>

namespace faultline::cli {

// `faultline abort RUN [--controller ADDR] [--reason TEXT]`: takes the run down the same path as
// a guardrail breach (every fault reverted, rollbacks, ABORTED) and waits until it has ended.
// Without --controller it reaches an embedded `faultline run` on this machine.
// Exit: 0 the run ended ABORTED; 1 it had already ended; 3 no such run or no controller.
int abort_run(const std::string& run_id, const std::string& controller, std::string reason);

}  // namespace faultline::cli
