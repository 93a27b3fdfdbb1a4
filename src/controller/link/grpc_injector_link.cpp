#include "controller/link/grpc_injector_link.h"

#include "common/log.h"

namespace faultline::controller {
namespace {

int64_t mono_ns() {
  return MonoClock::now().time_since_epoch().count();
}

std::string command_id_of(const pb::ControllerMessage& m) {
  switch (m.msg_case()) {
    case pb::ControllerMessage::kApply:
      return m.apply().command_id();
    case pb::ControllerMessage::kRevert:
      return m.revert().command_id();
    case pb::ControllerMessage::kRenew:
      return m.renew().command_id();
    case pb::ControllerMessage::kListProcesses:
      return m.list_processes().command_id();
    case pb::ControllerMessage::kListContainers:
      return m.list_containers().command_id();
    case pb::ControllerMessage::kRunCommand:
      return m.run_command().command_id();
    default:
      return "";
  }
}

}  // namespace

GrpcInjectorLink::GrpcInjectorLink(InjectorInfo info, std::shared_ptr<LinkOutbox> outbox,
                                   Duration command_timeout)
    : info_(std::move(info)),
      outbox_(std::move(outbox)),
      command_timeout_(command_timeout),
      last_seen_ns_(mono_ns()) {}

Duration GrpcInjectorLink::since_last_seen() const {
  return Duration(mono_ns() - last_seen_ns_.load());
}

void GrpcInjectorLink::on_message(const pb::InjectorMessage& msg) {
  last_seen_ns_ = mono_ns();
  if (msg.has_heartbeat()) {
    {
      std::lock_guard lock(mu_);
      // assign() reuses the vector's strings: a heartbeat allocates nothing here.
      active_faults_.assign(msg.heartbeat().active_fault_ids().begin(),
                            msg.heartbeat().active_fault_ids().end());
    }
    holds_faults_ = msg.heartbeat().active_fault_ids_size() > 0;
    // The echo is the injector's dead-man's switch, which only counts while it holds faults
    // (a fault it gains arrives as a command, which is contact too). An idle injector's
    // heartbeat is therefore not answered: that halves what an idle fleet costs the controller
    // (a read, not a read and a write, per heartbeat).
    if (!closed_ && outbox_ && msg.heartbeat().active_fault_ids_size() > 0)
      outbox_->echo_heartbeat(msg.heartbeat().seq());
    return;
  }
  if (!msg.has_ack()) return;
  std::lock_guard lock(mu_);
  auto it = pending_.find(msg.ack().command_id());
  if (it == pending_.end()) {
    spdlog::warn("ack for unknown command node={} command_id={}", info_.node_name,
                 msg.ack().command_id());
    return;
  }
  it->second.set_value({msg.ack(), MonoClock::now()});
  pending_.erase(it);
}

std::vector<std::string> GrpcInjectorLink::active_faults() const {
  std::lock_guard lock(mu_);
  return active_faults_;
}

void GrpcInjectorLink::disconnect() {
  if (outbox_)
    outbox_->end(grpc::Status(grpc::StatusCode::CANCELLED, "disconnected by the controller"), true);
}

void GrpcInjectorLink::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& [id, p] : pending_)
      p.set_value({make_error(ErrorCode::kUnavailable,
                              "injector " + info_.node_name + " disconnected before answering"),
                   MonoClock::now()});
    pending_.clear();
  }
  forget_applied();
}

PendingAck GrpcInjectorLink::send(const pb::ControllerMessage& command, Duration extra) {
  std::string id = command_id_of(command);
  std::future<TimedAck> answer;
  {
    std::lock_guard lock(mu_);
    if (closed_)
      return PendingAck::answered(
          make_error(ErrorCode::kUnavailable, "injector " + info_.node_name + " is disconnected"));
    answer = pending_[id].get_future();
  }
  // Queued, not written: the outbox writes it when the stream is free. Full or ending, the
  // stream is as good as broken.
  if (!outbox_ || !outbox_->write(command)) {
    std::lock_guard lock(mu_);
    pending_.erase(id);  // close() may have answered it already
    return PendingAck::answered(
        make_error(ErrorCode::kUnavailable,
                   "cannot write to injector " + info_.node_name + " (stream broken)"));
  }
  // The waiter holds the link (see PendingAck), so `this` outlives the deadline's callback.
  return PendingAck(
      std::move(answer), MonoClock::now() + command_timeout_ + extra, [this, id, extra] {
        {
          std::lock_guard lock(mu_);
          pending_.erase(id);
        }
        return make_error(ErrorCode::kUnavailable, "injector " + info_.node_name +
                                                       " did not answer within " +
                                                       format_duration(command_timeout_ + extra));
      });
}

}  // namespace faultline::controller
