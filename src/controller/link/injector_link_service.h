// The gRPC service injectors dial into. Each stream becomes a GrpcInjectorLink in the
// registry for as long as the stream lives.
#pragma once

#include "controller/link/injector_registry.h"
#include "faultline/v1/injector_link.grpc.pb.h"

namespace faultline::controller {

class InjectorLinkService final : public pb::InjectorLink::Service {
 public:
  InjectorLinkService(InjectorRegistry& registry, Duration heartbeat_interval,
                      Duration command_timeout)
      : registry_(registry),
        heartbeat_interval_(heartbeat_interval),
        command_timeout_(command_timeout) {}

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<pb::ControllerMessage, pb::InjectorMessage>* stream) override;

 private:
  InjectorRegistry& registry_;
  Duration heartbeat_interval_;
  Duration command_timeout_;
};

}  // namespace faultline::controller
