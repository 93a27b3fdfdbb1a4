// The gRPC service injectors dial into. Each stream becomes a GrpcInjectorLink in the
// registry for as long as the stream lives.
#pragma once

#include <functional>
#include <string>

#include "common/peer_certificate.h"
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

  // Told of every registration ("registered"), refusal ("refused: why") and disconnect
  // ("disconnected"), for the audit trail and the store. Set before serving.
  using Observer = std::function<void(const std::string& node, const std::string& peer,
                                      const std::string& what)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }
  // With mutual TLS: every injector's certificate must chain to this CA and name its node.
  void set_verifier(std::shared_ptr<ClientCertVerifier> v) { verifier_ = std::move(v); }

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<pb::ControllerMessage, pb::InjectorMessage>* stream) override;

 private:
  InjectorRegistry& registry_;
  Duration heartbeat_interval_;
  Duration command_timeout_;
  Observer observer_;
  std::shared_ptr<ClientCertVerifier> verifier_;
};

// An injector may only register under a name its (verified) certificate carries, CN or a DNS
// SAN; one node's certificate cannot pose as another node.
grpc::Status check_node_binding(const PeerIdentity& peer, const std::string& node);

}  // namespace faultline::controller
