#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace faultline::cli {

// `faultline injectors --controller ADDR`: one line per connected injector.
int list_injectors(const std::string& controller);

// A channel that is connected, or nullptr with `error` saying why (bounded wait).
std::shared_ptr<grpc::Channel> connect_controller(const std::string& address, std::string& error);

}  // namespace faultline::cli
