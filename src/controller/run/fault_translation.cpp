#include "controller/run/fault_translation.h"

namespace faultline::controller {
namespace {

v1::ProcessSelector to_wire(const experiments::ProcessSelector& s) {
  v1::ProcessSelector out;
  out.set_name(s.name);
  out.set_pidfile(s.pidfile);
  out.set_cmdline_regex(s.cmdline);
  out.set_pid(s.pid);
  return out;
}

v1::ProcessMode to_wire(experiments::ProcessMode m) {
  return m == experiments::ProcessMode::kAll ? v1::PROCESS_MODE_ALL : v1::PROCESS_MODE_ONE;
}

}  // namespace

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
          k->set_mode(to_wire(p.mode));
        } else if constexpr (std::is_same_v<T, experiments::ProcessPauseParams>) {
          auto* k = out.mutable_process_pause();
          *k->mutable_selector() = to_wire(selector);
          k->set_mode(to_wire(p.mode));
        }
      },
      fault.params);
  return out;
}

}  // namespace faultline::controller
