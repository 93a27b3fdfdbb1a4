// One injector's stream on gRPC's callback API: no thread waits on it. The first message must
// be Register (checked like every registration: name, certificate binding); after that every
// message goes to the stream's GrpcInjectorLink, and the next read is started at once.
// Writes go through the link's outbox. The reactor deletes itself when gRPC is done with the
// stream (OnDone), after taking its link out of the registry.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "common/duration.h"
#include "common/peer_certificate.h"
#include "common/tsan_annotations.h"
#include "controller/link/grpc_injector_link.h"
#include "controller/link/injector_registry.h"
#include "controller/link/link_events.h"
#include "controller/link/link_outbox.h"
#include "faultline/v1/injector_link.grpc.pb.h"

namespace faultline::controller {

// What every stream of one service shares; outlives the streams (the service owns it).
struct LinkContext {
  InjectorRegistry& registry;
  Duration heartbeat_interval;       // while an injector holds faults
  Duration idle_heartbeat_interval;  // while it holds none
  Duration command_timeout;
  OutboxLimits limits;
  LinkEvents* events = nullptr;                  // null: nobody observes
  const ClientCertVerifier* verifier = nullptr;  // null: no mutual TLS
};

class InjectorStream final
    : public grpc::ServerBidiReactor<pb::InjectorMessage, pb::ControllerMessage>,
      public StreamOps {
 public:
  InjectorStream(grpc::CallbackServerContext* context, const LinkContext& link);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override {
    Reaction r(this);
    outbox_->on_write_done(ok);
  }
  void OnCancel() override;
  void OnDone() override;

  // gRPC orders each call below before the reaction it leads to (and every reaction before
  // OnDone); tsan_annotations.h says why that is spelled out.
  void start_write(const pb::ControllerMessage* msg) override {
    tsan_release(this);
    StartWrite(msg);
  }
  void start_read() override {
    tsan_release(this);
    StartRead(&in_);
  }
  void try_cancel() override {
    tsan_release(this);
    context_->TryCancel();
  }
  void finish(const grpc::Status& status) override {
    tsan_release(this);
    Finish(status);
  }

 private:
  // Marks a reaction's body: it starts after what gRPC ordered before it, and ends before
  // whatever gRPC runs after it.
  struct Reaction {
    explicit Reaction(InjectorStream* s) : stream(s) { tsan_acquire(stream); }
    ~Reaction() { tsan_release(stream); }
    InjectorStream* stream;
  };

  // The first message. False when the stream was refused (and is ending).
  bool admit();
  void tell(const std::string& node, const std::string& what);

  grpc::CallbackServerContext* const context_;
  const LinkContext& link_context_;
  const std::string peer_;
  std::shared_ptr<LinkOutbox> outbox_;
  pb::InjectorMessage in_;  // reused by every read: a heartbeat allocates nothing new
  std::shared_ptr<GrpcInjectorLink> link_;  // once registered
};

}  // namespace faultline::controller
