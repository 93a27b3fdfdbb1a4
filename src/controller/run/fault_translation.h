// Experiment model -> wire: what the controller asks an injector to do for one fault.
#pragma once

#include "experiments/model.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::controller {

v1::ProcessSelector selector_to_wire(const experiments::ProcessSelector& selector);

// Whether this build can send the kind to an injector at all.
bool has_wire_form(const std::string& kind);

// The target must be the one the fault names (the loader guarantees it exists).
v1::FaultSpec to_wire(const experiments::FaultSpec& fault, const experiments::TargetSpec& target);

}  // namespace faultline::controller
