#include "controller/link/injector_link.h"

#include "common/ids.h"
#include "common/time_util.h"
#include "controller/controller_metrics.h"

namespace faultline::controller {
namespace {

uint32_t to_ms(Duration d) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

Error from_ack(const pb::FaultAck& ack) {
  ErrorCode code = ErrorCode::kInternal;
  switch (ack.error().code()) {
    case pb::ERROR_CODE_INVALID_ARGUMENT:
      code = ErrorCode::kInvalidArgument;
      break;
    case pb::ERROR_CODE_NOT_FOUND:
    case pb::ERROR_CODE_UNKNOWN_FAULT:
      code = ErrorCode::kNotFound;
      break;
    case pb::ERROR_CODE_PERMISSION_DENIED:
      code = ErrorCode::kPermissionDenied;
      break;
    case pb::ERROR_CODE_UNSUPPORTED:
      code = ErrorCode::kFailedPrecondition;
      break;
    default:
      break;
  }
  return make_error(code, ack.error().message());
}

// The oneof field names are the kind names ("process_pause"): a bounded label set.
std::string kind_of(const pb::FaultSpec& spec) {
  const auto* oneof = pb::FaultSpec::descriptor()->FindOneofByName("kind");
  const auto* field = oneof ? spec.GetReflection()->GetOneofFieldDescriptor(spec, oneof) : nullptr;
  return field ? field->name() : "none";
}

}  // namespace

PendingAck PendingAck::answered(Result<pb::FaultAck> ack) {
  std::promise<TimedAck> p;
  p.set_value({std::move(ack), MonoClock::now()});
  return PendingAck(p.get_future(), MonoTime::max(), nullptr);
}

bool PendingAck::ready() const {
  return ack_.wait_for(std::chrono::seconds(0)) == std::future_status::ready ||
         MonoClock::now() >= deadline_;
}

TimedAck PendingAck::wait() {
  if (ack_.wait_until(deadline_) == std::future_status::ready) return ack_.get();
  return {forget_(), MonoClock::now()};
}

void CommandLink::forget_applied() {
  std::lock_guard lock(applied_mu_);
  for (const auto& [_, kind] : applied_kinds_)
    controller_metrics().faults_active.with({kind}).dec();
  applied_kinds_.clear();
}

Reply<pb::AppliedState> CommandLink::start_apply(const std::string& fault_id,
                                                 const std::string& run_id,
                                                 const pb::FaultSpec& spec, Duration lease,
                                                 Duration max_duration) {
  pb::ControllerMessage msg;
  auto* c = msg.mutable_apply();
  c->set_command_id(new_id("c"));
  c->set_fault_id(fault_id);
  c->set_run_id(run_id);
  *c->mutable_spec() = spec;
  c->set_lease_ms(to_ms(lease));
  c->set_max_duration_ms(to_ms(max_duration));
  MonoTime sent = MonoClock::now();
  return {
      send(msg),
      [this, fault_id, kind = kind_of(spec), sent](TimedAck answer) -> Result<pb::AppliedState> {
        const auto& ack = answer.ack;
        ControllerMetrics& m = controller_metrics();
        if (!ack || !ack->ok()) {
          m.fault_errors_total.with({"apply", kind}).inc();
          return !ack ? ack.error() : from_ack(*ack);
        }
        m.fault_apply_seconds.with({kind}).observe(answer.at - sent);
        {
          std::lock_guard lock(applied_mu_);
          if (applied_kinds_.emplace(fault_id, kind).second) m.faults_active.with({kind}).inc();
        }
        return ack->state();
      }};
}

Reply<std::string> CommandLink::start_revert(const std::string& fault_id) {
  pb::ControllerMessage msg;
  msg.mutable_revert()->set_command_id(new_id("c"));
  msg.mutable_revert()->set_fault_id(fault_id);
  // A fault this link did not apply (one of a run before a controller restart) has no kind
  // to label it with and is not counted.
  std::string kind;
  {
    std::lock_guard lock(applied_mu_);
    if (auto it = applied_kinds_.find(fault_id); it != applied_kinds_.end()) kind = it->second;
  }
  MonoTime sent = MonoClock::now();
  return {send(msg), [this, fault_id, kind, sent](TimedAck answer) -> Result<std::string> {
            const auto& ack = answer.ack;
            ControllerMetrics& m = controller_metrics();
            if (!kind.empty()) {
              // Reverted or not, the run stops holding it: a failed revert is left to the lease.
              std::lock_guard lock(applied_mu_);
              if (applied_kinds_.erase(fault_id)) m.faults_active.with({kind}).dec();
            }
            if (!ack || !ack->ok()) {
              if (!kind.empty()) m.fault_errors_total.with({"revert", kind}).inc();
              return !ack ? ack.error() : from_ack(*ack);
            }
            if (!kind.empty()) m.fault_revert_seconds.with({kind}).observe(answer.at - sent);
            return ack->state().summary();
          }};
}

Reply<Ok> CommandLink::start_renew(const std::string& fault_id, Duration lease) {
  pb::ControllerMessage msg;
  msg.mutable_renew()->set_command_id(new_id("c"));
  msg.mutable_renew()->set_fault_id(fault_id);
  msg.mutable_renew()->set_lease_ms(to_ms(lease));
  return {send(msg), [](TimedAck answer) -> Status {
            const auto& ack = answer.ack;
            if (!ack) return ack.error();
            if (!ack->ok()) {
              // Not held any more (NOT_FOUND) or past its hard maximum (UNSUPPORTED): the
              // injector ended the fault by itself, which is what its lease is for.
              auto code = ack->error().code();
              if (code == pb::ERROR_CODE_NOT_FOUND || code == pb::ERROR_CODE_UNKNOWN_FAULT ||
                  code == pb::ERROR_CODE_UNSUPPORTED)
                controller_metrics().lease_expiries_observed_total.inc();
              return from_ack(*ack);
            }
            return Ok{};
          }};
}

Result<std::vector<pb::TouchedProcess>> CommandLink::list_processes(
    const pb::ProcessSelector& selector) {
  pb::ControllerMessage msg;
  msg.mutable_list_processes()->set_command_id(new_id("c"));
  *msg.mutable_list_processes()->mutable_selector() = selector;
  auto ack = send(msg).wait().ack;
  if (!ack) return ack.error();
  if (!ack->ok()) return from_ack(*ack);
  return std::vector<pb::TouchedProcess>(ack->state().processes().begin(),
                                         ack->state().processes().end());
}

Reply<std::vector<pb::TouchedContainer>> CommandLink::start_list_containers(
    const pb::ContainerSelector& selector) {
  pb::ControllerMessage msg;
  msg.mutable_list_containers()->set_command_id(new_id("c"));
  *msg.mutable_list_containers()->mutable_selector() = selector;
  return {send(msg), [](TimedAck answer) -> Result<std::vector<pb::TouchedContainer>> {
            const auto& ack = answer.ack;
            if (!ack) return ack.error();
            if (!ack->ok()) return from_ack(*ack);
            return std::vector<pb::TouchedContainer>(ack->state().containers().begin(),
                                                     ack->state().containers().end());
          }};
}

Reply<pb::CommandOutcome> CommandLink::start_run_command(const std::vector<std::string>& argv,
                                                         Duration timeout) {
  pb::ControllerMessage msg;
  auto* c = msg.mutable_run_command();
  c->set_command_id(new_id("c"));
  for (const auto& a : argv) c->add_argv(a);
  c->set_timeout_ms(static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
  return {send(msg, timeout), [](TimedAck answer) -> Result<pb::CommandOutcome> {
            const auto& ack = answer.ack;
            if (!ack) return ack.error();
            if (!ack->ok()) return from_ack(*ack);
            return ack->command();
          }};
}

}  // namespace faultline::controller
