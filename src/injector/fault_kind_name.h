// The kind of a wire FaultSpec, by name. The oneof field names are the kind names, so a new
// kind needs no change here. Its own header so that backends and the policy need not include
// the engine (which includes the policy).
#pragma once

#include <string>
#include <vector>

#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

// "process_kill", or "" if no kind is set.
std::string fault_kind_name(const ::faultline::v1::FaultSpec& spec);

// Every kind the wire knows, in FaultSpec oneof order.
std::vector<std::string> all_fault_kinds();

}  // namespace faultline::injector
