// Process exit codes are a public contract: CI pipelines branch on them.
#pragma once

namespace faultline {

enum ExitCode : int {
  kExitPassed = 0,
  kExitHypothesisFailed = 1,
  kExitAborted = 2,
  kExitInvalidOrInfra = 3,
};

}  // namespace faultline
