#include "controller/run/fault_translation.h"

namespace faultline::controller {
namespace {

v1::ProcessSelector to_wire(const experiments::ProcessSelector& s) {
  v1::ProcessSelector out;
  out.set_name(s.name);
  out.set_pidfile(s.pidfile);
  out.set_cmdline_regex(s.cmdline);
  out.set_pid(s.pid);
  out.set_cgroup(s.cgroup);
  return out;
}

v1::ProcessSelection to_wire(const experiments::Selection& s) {
  using Mode = experiments::Selection::Mode;
  v1::ProcessSelection out;
  switch (s.mode) {
    case Mode::kOne: out.set_mode(v1::PROCESS_MODE_ONE); break;
    case Mode::kAll: out.set_mode(v1::PROCESS_MODE_ALL); break;
    case Mode::kCount: out.set_mode(v1::PROCESS_MODE_COUNT); break;
    case Mode::kPercent: out.set_mode(v1::PROCESS_MODE_PERCENT); break;
  }
  out.set_count(static_cast<uint32_t>(s.count));
  out.set_fraction(s.percent);
  return out;
}

}  // namespace

bool has_wire_form(const std::string& kind) {
  return kind == "process_kill" || kind == "process_pause";
}

v1::FaultSpec to_wire(const experiments::FaultSpec& fault, const experiments::TargetSpec& target) {
  v1::FaultSpec out;
  experiments::ProcessSelector selector = target.process.value_or(experiments::ProcessSelector{});
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, experiments::ProcessKillParams>) {
          auto* k = out.mutable_process_kill();
          *k->mutable_selector() = to_wire(selector);
          k->set_signal(p.signal);
          *k->mutable_select() = to_wire(p.select);
        } else if constexpr (std::is_same_v<T, experiments::ProcessPauseParams>) {
          auto* k = out.mutable_process_pause();
          *k->mutable_selector() = to_wire(selector);
          *k->mutable_select() = to_wire(p.select);
        }
      },
      fault.params);
  return out;
}

}  // namespace faultline::controller
