#include "injector/process/process_pause_backend.h"

#include "injector/backend_registry.h"

#include <csignal>
#include <filesystem>

#include "common/log.h"
#include "injector/process/cgroup_freezer.h"
#include "injector/process/signal_sender.h"

namespace faultline::injector {

Result<AppliedFault> ProcessPauseBackend::apply(const std::string& fault_id,
                                                const pb::FaultSpec& spec) {
  const auto& pause = spec.process_pause();
  if (pause.method() == "freezer") return freeze_cgroup(fault_id, spec);
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
  applied.state.set_summary(pids.empty() ? "no process matches " + describe(pause.selector()) +
                                               "; skipped (on_empty: skip)"
                                         : "paused pid " + pids);
  return applied;
}

Result<AppliedFault> ProcessPauseBackend::freeze_cgroup(const std::string& fault_id,
                                                        const pb::FaultSpec& spec) {
  const auto& sel = spec.process_pause().selector();
  if (sel.cgroup().empty())
    return make_error(ErrorCode::kInvalidArgument, "the freezer needs a cgroup selector");
  // The guard rails hold for the whole cgroup: one protected member refuses it. Each member is
  // judged itself (not by counting): a cgroup whose processes come and go (a shell starting
  // short-lived children) must not look as if it held a protected one.
  auto pids = cgroup_pids(sel.cgroup());
  if (!pids) return pids.error();
  std::vector<ProcessInfo> live;
  for (pid_t pid : *pids) {
    auto p = read_process(pid);
    if (!p || p->state == 'Z') continue;  // gone, or dead and not yet reaped
    if (std::string why = guard_reason(*p, guard_, sel.has_container()); !why.empty())
      return make_error(ErrorCode::kPermissionDenied, "refused to freeze cgroup " + sel.cgroup() +
                                                          ": it holds a protected process (pid " +
                                                          std::to_string(pid) + ": " + why);
    live.push_back(std::move(*p));
  }
  if (live.empty() && !sel.skip_if_empty())
    return make_error(ErrorCode::kNotFound, "no process in cgroup " + sel.cgroup());
  const std::vector<ProcessInfo>* members = &live;
  auto cg = find_freezable(sel.cgroup());
  if (!cg) return cg.error();
  if (Status s = freeze(*cg); !s) return s.error();
  AppliedFault applied{fault_id, spec, {}};
  applied.state.set_frozen_cgroup(cg->dir);
  for (const auto& p : *members) {
    auto* touched = applied.state.add_processes();
    touched->set_pid(p.pid);
    touched->set_start_time_ticks(p.start_time_ticks);
    touched->set_comm(p.comm);
  }
  applied.state.set_summary("froze cgroup " + sel.cgroup() + " (" +
                            (cg->version == CgroupVersion::kV2 ? "v2" : "v1 freezer") + ", " +
                            std::to_string(members->size()) + " process(es))");
  spdlog::info("cgroup frozen dir={} processes={}", cg->dir, members->size());
  return applied;
}

Status ProcessPauseBackend::revert(const AppliedFault& fault) {
  if (!fault.state.frozen_cgroup().empty()) {
    const std::string& dir = fault.state.frozen_cgroup();
    bool v2 = std::filesystem::exists(dir + "/cgroup.freeze");
    Status s = thaw({v2 ? CgroupVersion::kV2 : CgroupVersion::kV1, dir});
    if (s) spdlog::info("cgroup thawed dir={}", dir);
    return s;
  }
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
  if (spec.process_pause().method() == "freezer") {
    auto cg = find_freezable(spec.process_pause().selector().cgroup());
    return cg ? thaw(*cg) : Status(Ok{});
  }
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

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "process_pause",
          .make =
              [](BackendContext&) {
                return std::make_unique<ProcessPauseBackend>(SelectorGuard::for_this_process());
              },
          .reach =
              [](const pb::FaultSpec& spec) {
                FaultReach r;
                r.processes.push_back(
                    {spec.process_pause().selector(),
                     spec.process_pause().method() == "freezer"
                         ? "the freezer also stops processes that join the cgroup later"
                         : ""});
                return r;
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
