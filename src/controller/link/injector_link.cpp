#include "controller/link/injector_link.h"

#include "common/ids.h"

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

}  // namespace

Result<pb::AppliedState> CommandLink::apply(const std::string& fault_id, const std::string& run_id,
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
  auto ack = send(msg);
  if (!ack) return ack.error();
  if (!ack->ok()) return from_ack(*ack);
  return ack->state();
}

Result<std::string> CommandLink::revert(const std::string& fault_id) {
  pb::ControllerMessage msg;
  msg.mutable_revert()->set_command_id(new_id("c"));
  msg.mutable_revert()->set_fault_id(fault_id);
  auto ack = send(msg);
  if (!ack) return ack.error();
  if (!ack->ok()) return from_ack(*ack);
  return ack->state().summary();
}

Status CommandLink::renew(const std::string& fault_id, Duration lease) {
  pb::ControllerMessage msg;
  msg.mutable_renew()->set_command_id(new_id("c"));
  msg.mutable_renew()->set_fault_id(fault_id);
  msg.mutable_renew()->set_lease_ms(to_ms(lease));
  auto ack = send(msg);
  if (!ack) return ack.error();
  if (!ack->ok()) return from_ack(*ack);
  return Ok{};
}

Result<std::vector<pb::TouchedProcess>> CommandLink::list_processes(
    const pb::ProcessSelector& selector) {
  pb::ControllerMessage msg;
  msg.mutable_list_processes()->set_command_id(new_id("c"));
  *msg.mutable_list_processes()->mutable_selector() = selector;
  auto ack = send(msg);
  if (!ack) return ack.error();
  if (!ack->ok()) return from_ack(*ack);
  return std::vector<pb::TouchedProcess>(ack->state().processes().begin(),
                                         ack->state().processes().end());
}

}  // namespace faultline::controller
