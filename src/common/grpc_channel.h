// Client channels for faultline's own daemons and CLI. Channel settings live here, once,
// so the injector link and the controller API always agree.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace faultline {

// gRPC's default reconnect backoff grows to minutes; faultline's peers must find each other
// again within about a second, or leases lapse and CLIs wait for nothing.
grpc::ChannelArguments fast_reconnect_args();

// Plaintext, for third-party endpoints that speak it (OTLP receivers, health checks of the
// system under test). Faultline's own peers go through secure_client_channel().
std::shared_ptr<grpc::Channel> make_client_channel(const std::string& address);

}  // namespace faultline
