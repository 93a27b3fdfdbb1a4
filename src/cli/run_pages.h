// A run's journal comes from the controller a page at a time (GetRun answers at most a few
// thousand events), so no single message grows with the run.
#pragma once

#include <string>

#include <grpcpp/grpcpp.h>

#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {

// Asks for pages until the journal ends; `out` is the whole run (summary from the first page).
grpc::Status get_whole_run(v1::ControllerApi::Stub& stub, const std::string& run_id, v1::Run* out);

}  // namespace faultline::cli
