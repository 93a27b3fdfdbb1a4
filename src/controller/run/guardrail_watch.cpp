#include "controller/run/guardrail_watch.h"

#include <algorithm>
#include <memory>
#include <optional>

namespace faultline::controller {

GuardrailWatch::GuardrailWatch(RunContext& run,
                               const std::vector<experiments::Guardrail>& guardrails,
                               ProbeContext probes)
    : run_(run), guardrails_(guardrails), probes_(std::move(probes)) {}

GuardrailWatch::~GuardrailWatch() {
  stop();
}

void GuardrailWatch::start() {
  if (guardrails_.empty() || thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { watch(); });
}

void GuardrailWatch::stop() {
  stopping_ = true;
  run_.wake();
  if (thread_.joinable()) thread_.join();
}

void GuardrailWatch::watch() {
  struct Watch {
    const experiments::Guardrail* spec;
    std::unique_ptr<Probe> probe;
    Duration interval;
    MonoTime next;
    std::optional<MonoTime> failing_since;
    int last = -1;  // -1 unknown, 0 failing, 1 passing
  };
  std::vector<Watch> watches;
  MonoTime start = MonoClock::now();
  for (const auto& g : guardrails_) {
    experiments::ProbeSpec ps{g.name, g.where, g.probe, g.timing};
    watches.push_back({&g, make_probe(ps, probes_), g.timing.interval.value_or(g.interval),
                       start + g.timing.initial_delay, std::nullopt});
  }
  while (!stopping_ && !run_.aborted()) {
    MonoTime next = watches.front().next;
    for (const auto& w : watches) next = std::min(next, w.next);
    if (run_.wait_until(next, [&] { return stopping_.load(); })) return;
    for (auto& w : watches) {
      MonoTime now = MonoClock::now();
      if (now < w.next) continue;
      w.next = now + w.interval;
      ProbeOutcome o = w.probe->run();
      run_.sample(w.probe->name(), pb::PROBE_PHASE_GUARDRAIL, o);
      // The story of a guardrail is its changes, not every 100 ms poll.
      if (w.last != static_cast<int>(o.ok)) {
        w.last = o.ok;
        run_.journal_probe(w.spec->name, pb::PROBE_PHASE_GUARDRAIL, o);
      }
      if (o.ok) {
        w.failing_since.reset();
        continue;
      }
      if (!w.failing_since) w.failing_since = now;
      MonoTime detected = MonoClock::now();
      auto held =
          std::chrono::duration_cast<std::chrono::milliseconds>(detected - *w.failing_since);
      if (held >= w.spec->hold_for) {
        std::string why =
            "guardrail \"" + w.spec->name + "\" breached: " + o.observed +
            (w.spec->hold_for > Duration::zero() ? " for " + format_duration(held) : "");
        pb::RunEvent ev = run_.event(pb::EVENT_TYPE_GUARDRAIL_BREACHED);
        ev.set_message(why);
        auto* g = ev.mutable_guardrail();
        g->set_name(w.spec->name);
        g->set_observed(o.observed);
        g->set_held_ms(held.count());
        run_.journal().append(ev);
        run_.abort(why);
        return;
      }
    }
  }
}

}  // namespace faultline::controller
