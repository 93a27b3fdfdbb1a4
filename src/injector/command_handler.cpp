#include "injector/command_handler.h"

#include "common/command_runner.h"
#include "common/log.h"
#include "injector/process/process_selector.h"

namespace faultline::injector {
namespace {

pb::ErrorCode to_wire(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return pb::ERROR_CODE_INVALID_ARGUMENT;
    case ErrorCode::kNotFound:
      return pb::ERROR_CODE_NOT_FOUND;
    case ErrorCode::kPermissionDenied:
      return pb::ERROR_CODE_PERMISSION_DENIED;
    case ErrorCode::kFailedPrecondition:
      return pb::ERROR_CODE_UNSUPPORTED;
    default:
      return pb::ERROR_CODE_INTERNAL;
  }
}

void set_error(pb::FaultAck& ack, const Error& e) {
  ack.set_ok(false);
  ack.mutable_error()->set_code(to_wire(e.code));
  ack.mutable_error()->set_message(e.message);
}

// Leases and hard maximums alike: milliseconds from receipt, 0 = the engine's default.
Duration lease_of(uint32_t ms) {
  return std::chrono::milliseconds(ms);
}

}  // namespace

pb::FaultAck handle_command(FaultEngine& engine, const pb::ControllerMessage& command) {
  pb::FaultAck ack;
  switch (command.msg_case()) {
    case pb::ControllerMessage::kApply: {
      const auto& c = command.apply();
      ack.set_command_id(c.command_id());
      ack.set_fault_id(c.fault_id());
      auto r = engine.apply(c.fault_id(), c.spec(), lease_of(c.lease_ms()),
                            lease_of(c.max_duration_ms()), c.run_id());
      if (r) {
        ack.set_ok(true);
        *ack.mutable_state() = *r;
      } else {
        set_error(ack, r.error());
      }
      break;
    }
    case pb::ControllerMessage::kRunCommand: {
      const auto& c = command.run_command();
      ack.set_command_id(c.command_id());
      std::vector<std::string> argv(c.argv().begin(), c.argv().end());
      auto policy = engine.policy();
      Status allowed = policy ? policy->check_command(argv)
                              : make_error(ErrorCode::kPermissionDenied,
                                           "this injector runs no commands: it has no policy "
                                           "(--policy FILE listing them in allow.commands)");
      if (!allowed) {
        spdlog::warn("command refused program={} error=\"{}\"", argv.empty() ? "" : argv[0],
                     allowed.error().message);
        set_error(ack, allowed.error());
        break;
      }
      // Absolute path from the policy, no shell, nothing of the injector's environment.
      auto ran = run_command(argv, std::chrono::milliseconds(c.timeout_ms()), -1, true);
      if (!ran) {
        set_error(ack, ran.error());
        break;
      }
      spdlog::info("command run for the controller program={} exit_code={} timed_out={}", argv[0],
                   ran->exit_code, ran->timed_out);
      ack.set_ok(true);
      ack.mutable_command()->set_exit_code(ran->exit_code);
      ack.mutable_command()->set_timed_out(ran->timed_out);
      ack.mutable_command()->set_output(ran->output);
      break;
    }
    case pb::ControllerMessage::kRevert: {
      const auto& c = command.revert();
      ack.set_command_id(c.command_id());
      ack.set_fault_id(c.fault_id());
      auto s = engine.revert(c.fault_id());
      if (s) {
        ack.set_ok(true);
        ack.mutable_state()->set_summary(*s);
      } else {
        set_error(ack, s.error());
      }
      break;
    }
    case pb::ControllerMessage::kRenew: {
      const auto& c = command.renew();
      ack.set_command_id(c.command_id());
      ack.set_fault_id(c.fault_id());
      Status s = engine.renew(c.fault_id(), lease_of(c.lease_ms()));
      if (s) {
        ack.set_ok(true);
      } else {
        set_error(ack, s.error());
        ack.mutable_error()->set_code(pb::ERROR_CODE_UNKNOWN_FAULT);
      }
      break;
    }
    case pb::ControllerMessage::kListProcesses: {
      const auto& c = command.list_processes();
      ack.set_command_id(c.command_id());
      pb::ProcessSelection all;
      all.set_mode(pb::PROCESS_MODE_ALL);
      auto found = resolve_processes(c.selector(), all, SelectorGuard::for_this_process());
      if (found || found.error().code == ErrorCode::kNotFound) {
        ack.set_ok(true);
        if (found)
          for (const auto& p : *found) {
            auto* t = ack.mutable_state()->add_processes();
            t->set_pid(p.pid);
            t->set_start_time_ticks(p.start_time_ticks);
            t->set_comm(p.comm);
          }
      } else {
        set_error(ack, found.error());
      }
      break;
    }
    case pb::ControllerMessage::kListContainers: {
      const auto& c = command.list_containers();
      ack.set_command_id(c.command_id());
      auto found = engine.container_runtimes()->find(c.selector());
      if (found) {
        ack.set_ok(true);
        for (const auto& t : *found) *ack.mutable_state()->add_containers() = t.touched();
      } else {
        set_error(ack, found.error());
      }
      break;
    }
    default:
      ack.set_ok(false);
      ack.mutable_error()->set_code(pb::ERROR_CODE_INVALID_ARGUMENT);
      ack.mutable_error()->set_message("not a fault command");
  }
  return ack;
}

}  // namespace faultline::injector
