#include "injector/hardware/clock_skew_backend.h"

#include "injector/backend_registry.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/log.h"
#include "injector/hardware/clock_control_file.h"

namespace faultline::injector {
namespace {

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

}  // namespace

std::string faketime_offset(int64_t offset_ms) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%c%.3f", offset_ms < 0 ? '-' : '+',
                static_cast<double>(offset_ms < 0 ? -offset_ms : offset_ms) / 1000.0);
  return buf;
}

bool ClockSkewBackend::available() const {
  return std::filesystem::exists(kFaketime);
}

Result<AppliedFault> ClockSkewBackend::apply(const std::string& fault_id,
                                             const pb::FaultSpec& spec) {
  const auto& c = spec.clock_skew();
  const std::string clocks = c.clocks().empty() ? "realtime" : c.clocks();
  pb::ProcessSelection all;
  all.set_mode(pb::PROCESS_MODE_ALL);
  auto targets = resolve_processes(c.selector(), all, guard_);
  if (!targets) return targets.error();
  // Only processes started under `faultline exec` can be reached (a cmdline selector also
  // matches the `faultline exec` wrapper itself, which is skipped).
  std::set<std::string> files;
  std::vector<ProcessInfo> reached;
  for (const auto& p : *targets) {
    auto control = find_clock_control(p.pid);
    if (!control) continue;
    if (clocks != "realtime" && !control->all_clocks)
      return make_error(ErrorCode::kFailedPrecondition,
                        "pid " + std::to_string(p.pid) + " (" + p.comm +
                            ") was started with `faultline exec` for the wall clock only; "
                            "start it with `faultline exec --all-clocks` to shift its " +
                            clocks + " clock");
    files.insert(control->path);
    reached.push_back(p);
  }
  if (reached.empty() && targets->empty() && c.selector().skip_if_empty()) {
    AppliedFault skipped{fault_id, spec, {}};
    skipped.state.set_summary("no process matches " + describe(c.selector()) +
                              "; skipped (on_empty: skip)");
    return skipped;
  }
  if (reached.empty())
    return make_error(ErrorCode::kFailedPrecondition,
                      "no process matching " + describe(c.selector()) +
                          " was started with `faultline exec`, so no clock can be shifted");
  AppliedFault applied{fault_id, spec, {}};
  std::string offset = faketime_offset(c.offset_ms());
  for (const auto& f : files) {
    if (Status s = write_clock_offset(f, offset); !s) {
      (void)revert(applied);
      return s.error();
    }
    applied.state.add_clock_files(f);
  }
  for (const auto& p : reached) {
    auto* t = applied.state.add_processes();
    t->set_pid(p.pid);
    t->set_start_time_ticks(p.start_time_ticks);
    t->set_comm(p.comm);
  }
  applied.state.set_summary(
      (clocks == "realtime" ? std::string("shifted the wall clock of ")
                            : "shifted the " + clocks + " clock (with every clock they fake) of ") +
      std::to_string(reached.size()) + " process(es) by " + offset + "s");
  spdlog::info("clock skew applied fault_id={} offset={}s files={}", fault_id, offset,
               files.size());
  return applied;
}

Status ClockSkewBackend::revert(const AppliedFault& fault) {
  // Each path is one this injector made (exec_clock_dir() and a wrapper's name); a file that
  // is gone means the target has exited, with nothing to restore.
  for (const auto& f : fault.state.clock_files())
    if (Status s = write_clock_offset(f, "+0"); !s) return s;
  return Ok{};
}

Status ClockSkewBackend::recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) {
  pb::ProcessSelection all;
  all.set_mode(pb::PROCESS_MODE_ALL);
  auto targets = resolve_processes(spec.clock_skew().selector(), all, guard_);
  if (!targets) return Ok{};
  AppliedFault fault{fault_id, spec, {}};
  for (const auto& p : *targets)
    if (auto control = find_clock_control(p.pid)) fault.state.add_clock_files(control->path);
  return revert(fault);
}

}  // namespace faultline::injector

namespace faultline::injector {
namespace {

BackendRegistration describe() {
  return {.kind = "clock_skew",
          .make =
              [](BackendContext&) {
                return std::make_unique<ClockSkewBackend>(SelectorGuard::for_this_process());
              },
          .reach =
              [](const pb::FaultSpec& spec) {
                FaultReach r;
                r.processes.push_back({spec.clock_skew().selector(), ""});
                return r;
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);
}  // namespace faultline::injector
