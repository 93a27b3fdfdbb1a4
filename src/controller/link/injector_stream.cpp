#include "controller/link/injector_stream.h"

#include "common/log.h"
#include "controller/controller_metrics.h"
#include "controller/link/injector_link_service.h"

namespace faultline::controller {

InjectorStream::InjectorStream(grpc::CallbackServerContext* context, const LinkContext& link)
    : context_(context), link_context_(link), peer_(context->peer()) {
  outbox_ = std::make_shared<LinkOutbox>(*this, peer_, link.limits);
  (void)outbox_->read_next();  // nothing can have ended the stream yet
}

void InjectorStream::OnReadDone(bool ok) {
  Reaction r(this);
  if (!ok) {
    // The injector closed its side or went away: OnDone follows the Finish.
    outbox_->end(grpc::Status::OK, false);
    return;
  }
  if (!link_) {
    if (!admit()) return;
  } else {
    link_->on_message(in_);
  }
  // False once the stream is ending; OnDone cleans up.
  (void)outbox_->read_next();
}

void InjectorStream::OnCancel() {
  Reaction r(this);
  // The peer reset the stream, or the server is shutting down: the read waiting on it fails
  // too, so this only makes sure the stream ends even if none is waiting right now.
  outbox_->end(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"), false);
}

bool InjectorStream::admit() {
  if (!in_.has_register_()) {
    outbox_->end({grpc::StatusCode::INVALID_ARGUMENT, "the first message must be Register"}, false);
    return false;
  }
  const auto& reg = in_.register_();
  if (reg.node_name().empty()) {
    outbox_->end({grpc::StatusCode::INVALID_ARGUMENT, "Register.node_name is empty"}, false);
    return false;
  }
  grpc::Status bound = grpc::Status::OK;
  if (link_context_.verifier) {
    auto peer = link_context_.verifier->verify(*context_->auth_context());
    bound = peer ? check_node_binding(*peer, reg.node_name())
                 : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, peer.error().message);
  }
  if (!bound.ok()) {
    spdlog::warn("injector refused node={} peer={} reason=\"{}\"", reg.node_name(), peer_,
                 bound.error_message());
    tell(reg.node_name(), "refused: " + bound.error_message());
    outbox_->end(bound, false);
    return false;
  }

  InjectorInfo info;
  info.node_name = reg.node_name();
  info.labels.insert(reg.labels().begin(), reg.labels().end());
  info.capabilities.assign(reg.capabilities().begin(), reg.capabilities().end());
  info.version = reg.version();
  outbox_->set_node(info.node_name);

  // Queued first, so every command sent once the link is in the registry comes after it.
  auto ms = [](Duration d) {
    return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  pb::ControllerMessage welcome;
  welcome.mutable_registered()->set_heartbeat_interval_ms(ms(link_context_.heartbeat_interval));
  welcome.mutable_registered()->set_idle_heartbeat_interval_ms(
      ms(link_context_.idle_heartbeat_interval));
  if (!outbox_->write(std::move(welcome))) return false;

  link_ = std::make_shared<GrpcInjectorLink>(info, outbox_, link_context_.command_timeout);
  // Three missed heartbeats; the injector's own contact grace is longer, so the controller
  // gives up on a silent node before the node gives up on it. Until its first heartbeat the
  // injector counts as idle.
  link_->set_silence_limits(3 * link_context_.heartbeat_interval,
                            3 * link_context_.idle_heartbeat_interval);
  link_context_.registry.add(link_);
  tell(info.node_name, "registered");
  if (reg.recovered_fault_ids_size() > 0) {
    controller_metrics().injector_ledger_recoveries_total.inc(reg.recovered_fault_ids_size());
    std::string ids;
    for (const auto& id : reg.recovered_fault_ids()) ids += (ids.empty() ? "" : ",") + id;
    spdlog::warn("injector reverted faults from its ledger at start node={} fault_ids={}",
                 info.node_name, ids);
    tell(info.node_name, "recovered: " + ids);
  }
  spdlog::info("injector connected node={} peer={} capabilities={}", info.node_name, peer_,
               fmt::format("{}", fmt::join(info.capabilities, ",")));
  return true;
}

void InjectorStream::OnDone() {
  tsan_acquire(this);  // after Finish and every reaction (no Reaction: this deletes itself)
  outbox_->on_done();
  if (link_) {
    // Every reaction has run: nothing writes through the link's outbox into this stream now.
    link_->close();
    link_context_.registry.remove(link_.get());
    controller_metrics().injector_disconnects_total.inc();
    spdlog::warn("injector disconnected node={}", link_->info().node_name);
    tell(link_->info().node_name, "disconnected");
  }
  delete this;
}

void InjectorStream::tell(const std::string& node, const std::string& what) {
  if (link_context_.events) link_context_.events->post(node, peer_, what);
}

}  // namespace faultline::controller
