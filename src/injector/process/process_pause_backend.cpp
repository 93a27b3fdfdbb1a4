#include "injector/process/process_pause_backend.h"

#include <csignal>

#include "common/log.h"
#include "injector/process/signal_sender.h"

namespace faultline::injector {

Result<AppliedFault> ProcessPauseBackend::apply(const std::string& fault_id,
                                                const pb::FaultSpec& spec) {
  const auto& pause = spec.process_pause();
  auto targets = resolve_processes(pause.selector(), pause.select(), guard_);
  if (!targets) return targets.error();

  AppliedFault applied{fault_id, spec, {}};
  std::string pids;
  for (const auto& p : *targets) {
    Status sent = send_signal_exact(p.pid, p.start_time_ticks, SIGSTOP);
    if (!sent) {
      // Leave nothing half-applied: thaw what this call already stopped.
      (void)revert(applied);
      return sent.error();
    }
    auto* touched = applied.state.add_processes();
    touched->set_pid(p.pid);
    touched->set_start_time_ticks(p.start_time_ticks);
    touched->set_comm(p.comm);
    pids += (pids.empty() ? "" : ", ") + std::to_string(p.pid) + " (" + p.comm + ")";
    spdlog::info("process paused pid={} comm={}", p.pid, p.comm);
  }
  applied.state.set_summary("paused pid " + pids);
  return applied;
}

Status ProcessPauseBackend::revert(const AppliedFault& fault) {
  Status result = Ok{};
  for (const auto& p : fault.state.processes()) {
    Status sent = send_signal_exact(p.pid(), p.start_time_ticks(), SIGCONT);
    if (sent) {
      spdlog::info("process resumed pid={} comm={}", p.pid(), p.comm());
    } else if (sent.error().code == ErrorCode::kNotFound) {
      spdlog::info("process gone before resume pid={} comm={}", p.pid(), p.comm());
    } else {
      spdlog::error("process resume failed pid={} error=\"{}\"", p.pid(), sent.error().message);
      result = sent.error();
    }
  }
  return result;
}

}  // namespace faultline::injector

namespace faultline::injector {

Status ProcessPauseBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  pb::ProcessSelection all;
  all.set_mode(pb::PROCESS_MODE_ALL);
  auto targets = resolve_processes(spec.process_pause().selector(), all, guard_);
  if (!targets) return Ok{};  // nothing matches any more: nothing is left stopped
  for (const auto& p : *targets) {
    if (p.state != 'T') continue;
    Status sent = send_signal_exact(p.pid, p.start_time_ticks, SIGCONT);
    if (!sent && sent.error().code != ErrorCode::kNotFound) return sent.error();
    spdlog::warn("crash recovery resumed pid={} comm={} fault_id={}", p.pid, p.comm, fault_id);
  }
  return Ok{};
}

}  // namespace faultline::injector
