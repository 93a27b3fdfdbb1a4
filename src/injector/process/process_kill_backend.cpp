#include "injector/process/process_kill_backend.h"

#include "injector/backend_registry.h"

#include <cstring>

#include "common/interruptible_thread.h"
#include "common/log.h"
#include "injector/process/signal_sender.h"

namespace faultline::injector {

ProcessKillBackend::ProcessKillBackend(SelectorGuard guard) : guard_(std::move(guard)) {}

ProcessKillBackend::~ProcessKillBackend() = default;

Result<std::string> ProcessKillBackend::signal_matching(const pb::ProcessKill& kill,
                                                        pb::AppliedState* state) {
  auto targets = resolve_processes(kill.selector(), kill.select(), guard_);
  if (!targets) return targets.error();
  std::string pids;
  for (const auto& p : *targets) {
    Status sent = send_signal_exact(p.pid, p.start_time_ticks, kill.signal());
    if (!sent) return sent.error();
    if (state) {
      auto* touched = state->add_processes();
      touched->set_pid(p.pid);
      touched->set_start_time_ticks(p.start_time_ticks);
      touched->set_comm(p.comm);
    }
    pids += (pids.empty() ? "" : ", ") + std::to_string(p.pid) + " (" + p.comm + ")";
    spdlog::info("signal sent signal={} pid={} comm={}", kill.signal(), p.pid, p.comm);
  }
  return pids;
}

Result<AppliedFault> ProcessKillBackend::apply(const std::string& fault_id,
                                               const pb::FaultSpec& spec) {
  const auto& kill = spec.process_kill();
  if (kill.signal() <= 0 || kill.signal() > 64)
    return make_error(ErrorCode::kInvalidArgument, "signal must be 1..64");
  AppliedFault applied{fault_id, spec, {}};
  auto pids = signal_matching(kill, &applied.state);
  if (!pids) return pids.error();
  std::string summary =
      pids->empty()
          ? "no process matches " + describe(kill.selector()) + "; skipped (on_empty: skip)"
          : std::string("SIG") + sigabbrev_np(kill.signal()) + " sent to pid " + *pids;
  if (kill.interval_ms() > 0) {
    auto every = std::chrono::milliseconds(kill.interval_ms());
    auto loop = std::make_unique<InterruptibleThread>(
        [this, kill, every, fault_id](InterruptibleThread& self) {
          while (self.sleep_for(every)) {
            // Nothing matching right now is normal in a crash loop: the target is restarting.
            auto r = signal_matching(kill, nullptr);
            if (!r)
              spdlog::info("crash loop found no target fault_id={} why=\"{}\"", fault_id,
                           r.error().message);
          }
        });
    std::lock_guard lock(mu_);
    loops_[fault_id] = std::move(loop);
    summary += ", then again every " + std::to_string(kill.interval_ms()) + "ms until reverted";
  }
  applied.state.set_summary(summary);
  return applied;
}

Status ProcessKillBackend::revert(const AppliedFault& fault) {
  std::unique_ptr<InterruptibleThread> loop;
  {
    std::lock_guard lock(mu_);
    auto it = loops_.find(fault.fault_id);
    if (it == loops_.end()) return Ok{};
    loop = std::move(it->second);
    loops_.erase(it);
  }
  loop->stop();
  spdlog::info("crash loop stopped fault_id={}", fault.fault_id);
  return Ok{};
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "process_kill",
          .make =
              [](BackendContext&) {
                return std::make_unique<ProcessKillBackend>(SelectorGuard::for_this_process());
              },
          .reach =
              [](const pb::FaultSpec& spec) {
                FaultReach r;
                r.processes.push_back({spec.process_kill().selector(),
                                       spec.process_kill().interval_ms() > 0
                                           ? "a crash loop (interval) picks its targets again later"
                                           : ""});
                return r;
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
