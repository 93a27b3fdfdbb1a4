// One call to the controller's API the way every remote command makes it: connect (bounded),
// authorize, call, and turn any failure into one line on stderr and exit code 3.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "cli/client_security.h"
#include "cli/injectors_command.h"
#include "common/exit_codes.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {

// `call(stub, ctx)` makes the request and prints the answer; its status decides the exit code.
template <typename Call>
int call_controller(const std::string& controller, Call call,
                    std::chrono::seconds deadline = std::chrono::seconds(10)) {
  std::string error;
  auto channel = connect_controller(controller, error);
  if (!channel) {
    std::fprintf(stderr, "faultline: %s\n", error.c_str());
    return kExitInvalidOrInfra;
  }
  auto stub = v1::ControllerApi::NewStub(channel);
  grpc::Status s = call(*stub, *api_context(deadline));
  if (!s.ok()) {
    std::fprintf(stderr, "faultline: %s\n", s.error_message().c_str());
    return kExitInvalidOrInfra;
  }
  return kExitPassed;
}

}  // namespace faultline::cli
