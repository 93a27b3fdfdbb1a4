// The gRPC service injectors dial into, on gRPC's callback API: each stream is an
// InjectorStream reactor (no thread per injector) and becomes a GrpcInjectorLink in the
// registry for as long as the stream lives.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/peer_certificate.h"
#include "controller/link/injector_registry.h"
#include "controller/link/injector_stream.h"
#include "controller/link/link_events.h"
#include "faultline/v1/injector_link.grpc.pb.h"

namespace faultline::controller {

class InjectorLinkService final : public pb::InjectorLink::CallbackService {
 public:
  InjectorLinkService(InjectorRegistry& registry, Duration heartbeat_interval,
                      Duration command_timeout, OutboxLimits limits = {})
      : context_{registry, heartbeat_interval, kIdleBeats * heartbeat_interval, command_timeout,
                 limits} {}

  // An idle injector beats this many times less often (Registered.idle_heartbeat_interval_ms).
  static constexpr int kIdleBeats = 5;
  // Set before serving.
  void set_idle_heartbeat_interval(Duration d) { context_.idle_heartbeat_interval = d; }

  // Told of every registration ("registered"), refusal ("refused: why") and disconnect
  // ("disconnected"), in order, on a thread of the service's own (see LinkEvents), for the
  // audit trail and the store. Set before serving.
  using Observer = LinkEvents::Observer;
  void set_observer(Observer observer) {
    events_ = std::make_unique<LinkEvents>(std::move(observer));
    context_.events = events_.get();
  }
  // With mutual TLS: every injector's certificate must chain to this CA and name its node.
  // Set before serving.
  void set_verifier(std::shared_ptr<ClientCertVerifier> v) {
    verifier_ = std::move(v);
    context_.verifier = verifier_.get();
  }
  // Returns once the observer has been told everything that happened so far.
  void drain_events() {
    if (events_) events_->drain();
  }

  // Server settings the link needs, on the builder that registers it: see the .cpp.
  static void configure(grpc::ServerBuilder& builder);

  grpc::ServerBidiReactor<pb::InjectorMessage, pb::ControllerMessage>* Connect(
      grpc::CallbackServerContext* context) override {
    return new InjectorStream(context, context_);
  }

 private:
  std::shared_ptr<ClientCertVerifier> verifier_;
  std::unique_ptr<LinkEvents> events_;
  LinkContext context_;
};

// An injector may only register under a name its (verified) certificate carries, CN or a DNS
// SAN; one node's certificate cannot pose as another node.
grpc::Status check_node_binding(const PeerIdentity& peer, const std::string& node);

}  // namespace faultline::controller
