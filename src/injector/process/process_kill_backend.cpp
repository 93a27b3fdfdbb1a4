#include "injector/process/process_kill_backend.h"

#include <cstring>

#include "common/log.h"
#include "injector/process/signal_sender.h"

namespace faultline::injector {

Result<AppliedFault> ProcessKillBackend::apply(const pb::FaultSpec& spec) {
  const auto& kill = spec.process_kill();
  if (kill.signal() <= 0 || kill.signal() > 64)
    return make_error(ErrorCode::kInvalidArgument, "signal must be 1..64");
  auto targets = resolve_processes(kill.selector(), kill.select(), guard_);
  if (!targets) return targets.error();

  AppliedFault applied{spec, {}};
  std::string pids;
  for (const auto& p : *targets) {
    Status sent = send_signal_exact(p.pid, p.start_time_ticks, kill.signal());
    if (!sent) return sent.error();
    auto* touched = applied.state.add_processes();
    touched->set_pid(p.pid);
    touched->set_start_time_ticks(p.start_time_ticks);
    touched->set_comm(p.comm);
    pids += (pids.empty() ? "" : ", ") + std::to_string(p.pid) + " (" + p.comm + ")";
    spdlog::info("signal sent signal={} pid={} comm={}", kill.signal(), p.pid, p.comm);
  }
  applied.state.set_summary(std::string("SIG") + sigabbrev_np(kill.signal()) + " sent to pid " +
                            pids);
  return applied;
}

Status ProcessKillBackend::revert(const AppliedFault&) {
  return Ok{};
}

}  // namespace faultline::injector
