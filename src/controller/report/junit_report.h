// JUnit XML for CI systems: one <testsuite> per run, one <testcase> per check (run_checks.h),
// so a pipeline shows which steady-state probe, guardrail or recovery check failed and why.
#pragma once

#include <string>
#include <vector>

#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

std::string junit_xml(const std::vector<v1::Run>& runs);

}  // namespace faultline::controller
