#include "experiments/kinds/process_kill.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;
using namespace kind_parts;

void write(const ProcessKillParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* k = out.mutable_process_kill();
  *k->mutable_selector() = t.selector;
  k->set_signal(p.signal);
  k->set_interval_ms(millis(p.interval));
  *k->mutable_select() = selection_to_wire(p.select);
}

FaultKind describe() {
  auto signal = make(Type::kSignal, "Signal to send: a name (SIGKILL, TERM) or a number 1..64.");
  signal->default_text = "SIGKILL";
  return {
      .name = "process_kill",
      .params = object(process_selection_props(
                           {opt("signal", signal),
                            opt("interval", duration("Send the signal again every interval for "
                                                     "the fault's duration (a crash loop); 0s "
                                                     "sends it once.",
                                                     "0s"))}),
                       "Send a signal to the target processes."),
      .needs = TargetNeeds::kProcess,
      .scope = ScopeClass::kProcesses,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<ProcessKillParams>();
            p->signal = v.signal("signal");
            p->select = read_selection(v);
            p->interval = v.duration("interval");
            return p;
          },
      .to_wire = wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
