#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace faultline::cli {

// `faultline injectors --controller ADDR [--all]`: one line per connected injector; with
// `all`, also one per node that registered before and is not connected now.
int list_injectors(const std::string& controller, bool all);

// A channel that is connected, or nullptr with `error` saying why (bounded wait).
std::shared_ptr<grpc::Channel> connect_controller(const std::string& address, std::string& error);

}  // namespace faultline::cli
