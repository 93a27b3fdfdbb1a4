// Client channels for faultline's own daemons and CLI. Transport settings live here, once,
// so the injector link and the controller API always agree (and mTLS lands in one place).
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace faultline {

// gRPC's default reconnect backoff grows to minutes; faultline's peers must find each other
// again within about a second, or leases lapse and CLIs wait for nothing.
std::shared_ptr<grpc::Channel> make_client_channel(const std::string& address);

}  // namespace faultline
