// Experiment model -> wire: what the controller asks an injector to do for one fault.
#pragma once

#include "experiments/model.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::controller {

v1::ProcessSelector selector_to_wire(const experiments::ProcessSelector& selector);

// Whether this build can send the kind to an injector at all.
bool has_wire_form(const std::string& kind);

// The target must be the one the fault names (the loader guarantees it exists). For a
// container or pod target, `chosen` is the id (pod sandbox id for a pod) of the one the plan
// chose for this fault on its node; the injector then touches only it.
v1::FaultSpec to_wire(const experiments::FaultSpec& fault, const experiments::TargetSpec& target,
                      const std::string& chosen = "");

}  // namespace faultline::controller
