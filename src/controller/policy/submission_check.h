// Checks a submitted experiment against the controller policy before it is planned: every
// command its probes, checks and rollbacks would run on the controller, every host they would
// reach and every file they would read. Each refusal is a diagnostic at the probe's line that
// names the policy rule, so the submitter sees them all at once, like validation errors.
#pragma once

#include "controller/policy/controller_policy.h"
#include "experiments/diagnostic.h"
#include "experiments/model.h"

namespace faultline::controller {

experiments::Diagnostics check_submission(const experiments::Experiment& experiment,
                                          const ControllerPolicy& policy);

}  // namespace faultline::controller
