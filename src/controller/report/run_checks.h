// A finished run as a list of checks with a verdict each: what JUnit turns into test cases and
// the HTML report into its scorecard. Built from the stored run only.
#pragma once

#include <string>
#include <vector>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

struct CheckOutcome {
  enum class Status { kPassed, kFailed, kSkipped };
  CheckOutcome(std::string g, std::string n) : group(std::move(g)), name(std::move(n)) {}
  std::string group;  // "steady state before", "fault", "guardrail", "recovery", ...
  std::string name;
  Status status = Status::kPassed;
  std::string message;  // why it failed or was skipped; what it observed when it passed
  double seconds = 0;   // recovery: time to recover; fault: how long it was active
};

// In the order a run goes: verdict, steady state before, faults, guardrails, recovery checks,
// steady state after.
std::vector<CheckOutcome> run_checks(const v1::Run& run);

}  // namespace faultline::controller
