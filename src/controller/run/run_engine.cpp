#include "controller/run/run_engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"
#include "common/time_util.h"
#include "controller/plan/container_inventory.h"
#include "controller/run/fault_translation.h"
#include "controller/run/guardrail_watch.h"
#include "controller/run/recovery_phase.h"

namespace faultline::controller {

RunEngine::RunEngine(std::string run_id, experiments::Experiment experiment, Plan plan,
                     InjectorRegistry& registry, RunSettings settings, SliStore* traces)
    : experiment_(std::move(experiment)),
      plan_(std::move(plan)),
      registry_(registry),
      traces_(traces),
      run_(std::move(run_id)),
      fan_out_(run_, experiment_, plan_, registry_, settings) {}

RunEngine::~RunEngine() {
  abort("run discarded");
  wait();
}

void RunEngine::start() {
  thread_ = std::thread([this] { execute(); });
}

void RunEngine::wait() {
  std::lock_guard lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void RunEngine::set_state(pb::RunState s) {
  run_.set_state(s);
  pb::RunEvent ev = run_.event(pb::EVENT_TYPE_STATE_CHANGED);
  run_.journal().append(ev);
  spdlog::info("run state run={} state={}", id(), state_name(s));
}

void RunEngine::finish(pb::RunState verdict, const std::string& reason, int64_t ttr_ms) {
  // A queued run changed nothing to roll back.
  if (!never_started_) run_rollbacks(run_, experiment_.rollbacks, verdict, probe_context());
  set_state(verdict);
  pb::RunEvent ev = run_.event(pb::EVENT_TYPE_RUN_FINISHED);
  ev.set_message(reason);
  auto* s = ev.mutable_summary();
  s->set_verdict(verdict);
  if (size_t dropped = run_.journal().dropped())
    s->set_reason(reason + " (" + std::to_string(dropped) +
                  " probe results and notes not journaled: the journal was full)");
  else
    s->set_reason(reason);
  s->set_time_to_recover_ms(ttr_ms);
  s->set_abort_to_reverted_ms(abort_to_reverted_ms_);
  auto first = run_.journal().page(0, 1, nullptr);
  s->set_started_unix_ms(first.empty() ? unix_millis_now() : first.front().unix_ms());
  s->set_ended_unix_ms(unix_millis_now());
  // duration_ms is set by the journal from the finished event's monotonic time: the wall
  // clock may have jumped since the start.
  s->set_exit_code(exit_code_for(verdict));
  s->set_experiment_name(experiment_.metadata.name);
  if (experiment_.recovery)
    s->set_recovery_deadline_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(experiment_.recovery->deadline)
            .count());
  for (const auto& p : experiment_.steady_state) s->add_steady_state_probes(p.name);
  for (const auto& g : experiment_.abort_when) s->add_guardrails(g.name);
  if (experiment_.recovery)
    for (const auto& c : experiment_.recovery->checks) s->add_recovery_checks(c.name);
  s->set_source_name(experiment_.source_file);
  for (auto& ser : run_.series()) *s->add_series() = std::move(ser);
  run_.journal().append(ev);
  spdlog::info("run finished run={} verdict={} reason=\"{}\"", id(), state_name(verdict), reason);
}

pb::Run RunEngine::record() const {
  pb::Run r;
  r.set_run_id(id());
  r.set_experiment_name(experiment_.metadata.name);
  r.set_state(state());
  for (const auto& ev : run_.journal().events()) {
    *r.add_events() = ev;
    if (ev.type() == pb::EVENT_TYPE_RUN_FINISHED) *r.mutable_summary() = ev.summary();
  }
  return r;
}

pb::Run RunEngine::record_page(uint64_t after_seq, size_t max) const {
  pb::Run r;
  r.set_run_id(id());
  r.set_experiment_name(experiment_.metadata.name);
  r.set_state(state());
  bool more = false;
  for (auto& ev : run_.journal().page(after_seq, max, &more)) {
    if (ev.type() == pb::EVENT_TYPE_RUN_FINISHED) *r.mutable_summary() = ev.summary();
    *r.add_events() = std::move(ev);
  }
  r.set_more_events(more);
  // The summary is in the last event; the first page carries it (once is enough: it holds
  // the probe series, the largest part of a record).
  if (after_seq == 0 && !r.has_summary() && run_.journal().finished())
    if (auto last = run_.journal().last(); last && last->has_summary())
      *r.mutable_summary() = last->summary();
  return r;
}

void RunEngine::set_journal_limit(size_t max) {
  run_.journal().set_capacity(max, [this](size_t n) {
    abort("the run's journal reached " + std::to_string(n) +
          " events, the limit of the controller policy (limits.events_per_run)");
  });
}

void RunEngine::set_command_nodes(std::map<std::string, std::string> nodes) {
  if (nodes.empty()) return;
  auto placement = std::make_shared<CommandPlacement>();
  placement->nodes = std::move(nodes);
  placement->link_of = [this](const std::string& node) { return registry_.find(node); };
  commands_ = std::move(placement);
}

ProbeContext RunEngine::probe_context() {
  ProbeContext ctx;
  ctx.destinations = destinations_;
  ctx.commands = commands_;
  ctx.traces = traces_;
  ctx.polled = polled_.get();
  ctx.nodes_of = [this](const std::string& target) {
    std::vector<std::shared_ptr<InjectorLink>> links;
    for (const auto& node : plan_.targets[target].nodes)
      if (auto link = registry_.find(node)) links.push_back(link);
    return links;
  };
  ctx.selector_of = [this](const std::string& target) {
    const auto* t = experiment_.find_target(target);
    return t && t->process ? selector_to_wire(*t->process) : pb::ProcessSelector{};
  };
  ctx.container_of = [this](const std::string& target) {
    const auto* t = experiment_.find_target(target);
    return t && t->container ? container_selector_to_wire(*t->container) : pb::ContainerSelector{};
  };
  ctx.pod_nodes_of = [this](const std::string& target) {
    std::vector<std::shared_ptr<InjectorLink>> links;
    for (const auto& node : plan_.targets[target].searched)
      if (auto link = registry_.find(node)) links.push_back(link);
    return links;
  };
  return ctx;
}

Status RunEngine::check_probes(std::vector<std::unique_ptr<Probe>>& probes,
                               const std::vector<experiments::ProbeSpec>& specs,
                               pb::ProbePhase phase) {
  Status first_failure = Ok{};
  MonoTime phase_start = MonoClock::now();
  for (size_t i = 0; i < probes.size(); ++i) {
    auto& probe = probes[i];
    if (!run_.sleep_until(phase_start + specs[i].timing.initial_delay)) break;
    ProbeOutcome o = probe->run();
    run_.sample(probe->name(), phase, o);
    run_.journal_probe(probe->name(), phase, o);
    if (!o.ok && first_failure)
      first_failure =
          make_error(ErrorCode::kFailedPrecondition, probe->name() + " observed " + o.observed);
  }
  return first_failure;
}

Status RunEngine::inject() {
  // Every planned window becomes an apply and a revert; at equal times reverts go first so
  // back-to-back faults on one target never overlap.
  struct Action {
    Duration at;
    bool apply;
    size_t planned;
  };
  std::vector<Action> actions;
  for (size_t i = 0; i < plan_.faults.size(); ++i) {
    actions.push_back({plan_.faults[i].window.start, true, i});
    actions.push_back({plan_.faults[i].window.end, false, i});
  }
  std::stable_sort(actions.begin(), actions.end(), [](const Action& a, const Action& b) {
    return a.at != b.at ? a.at < b.at : (!a.apply && b.apply);
  });
  MonoTime t0 = MonoClock::now();
  for (size_t i = 0; i < actions.size();) {
    auto held = fan_out_.hold_until(t0 + actions[i].at);
    if (!held) return held.error();
    if (*held == FaultFanOut::Held::kAborted) return Ok{};  // run_phases reports the abort
    std::vector<size_t> to_revert, to_apply;
    size_t j = i;
    for (; j < actions.size() && actions[j].at == actions[i].at; ++j)
      (actions[j].apply ? to_apply : to_revert).push_back(actions[j].planned);
    i = j;
    if (Status s = fan_out_.revert(to_revert); !s) run_.note(s.error().message);
    if (Status s = fan_out_.apply(to_apply); !s) return s;
  }
  return Ok{};
}

void RunEngine::journal_all_reverted() {
  pb::RunEvent ev = run_.event(pb::EVENT_TYPE_ALL_REVERTED);
  abort_to_reverted_ms_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - *run_.abort_at())
          .count();
  ev.set_since_abort_ms(abort_to_reverted_ms_);
  run_.journal().append(ev);
}

RunEngine::Verdict RunEngine::run_phases(int64_t& ttr) {
  std::vector<std::unique_ptr<Probe>> steady;
  ProbeContext ctx = probe_context();
  for (const auto& p : experiment_.steady_state) steady.push_back(make_probe(p, ctx));

  set_state(pb::RUN_STATE_STEADY_STATE_CHECK);
  if (Status s =
          check_probes(steady, experiment_.steady_state, pb::PROBE_PHASE_STEADY_STATE_BEFORE);
      !s)
    return {pb::RUN_STATE_FAILED, "system was not steady before injection: " + s.error().message +
                                      "; nothing was injected"};
  if (run_.aborted())
    return {pb::RUN_STATE_ABORTED, run_.abort_reason() + "; nothing was injected"};

  set_state(pb::RUN_STATE_INJECTING);
  Status injected = Ok{};
  {
    GuardrailWatch guardrails(run_, experiment_.abort_when, ctx);
    guardrails.start();
    injected = inject();
  }  // injection has ended: the watch stops
  Status reverted = fan_out_.revert_all_active();
  if (run_.aborted()) journal_all_reverted();
  if (!injected)
    return {pb::RUN_STATE_ERROR, injected.error().message + "; every applied fault was reverted"};
  if (run_.aborted())
    return {pb::RUN_STATE_ABORTED,
            run_.abort_reason() +
                (reverted ? "; every fault was reverted" : "; " + reverted.error().message)};
  MonoTime window_end = MonoClock::now();

  if (experiment_.recovery && !experiment_.recovery->checks.empty()) {
    set_state(pb::RUN_STATE_RECOVERING);
    auto recovered = await_recovery(
        run_, *experiment_.recovery, ctx,
        [this](const std::string& target) { return fan_out_.touched(target); }, window_end,
        [this](const std::string& target) { return fan_out_.touched_containers(target); });
    ttr = recovered ? *recovered : -1;
    if (run_.aborted())
      return {pb::RUN_STATE_ABORTED, run_.abort_reason() + "; every fault was reverted"};
    if (!recovered) return {pb::RUN_STATE_FAILED, recovered.error().message};
    pb::RunEvent ev = run_.event(pb::EVENT_TYPE_RECOVERED);
    ev.set_time_to_recover_ms(ttr);
    run_.journal().append(ev);
  }
  if (Status s = check_probes(steady, experiment_.steady_state, pb::PROBE_PHASE_STEADY_STATE_AFTER);
      !s)
    return {pb::RUN_STATE_FAILED, "steady state did not hold after recovery: " + s.error().message};
  return {pb::RUN_STATE_PASSED,
          ttr >= 0 ? "recovered in " + std::to_string(ttr) + " ms and steady state holds"
                   : "steady state holds"};
}

bool RunEngine::wait_in_queue() {
  if (!ready_ || ready_()) return true;
  run_.note("queued behind " + queued_behind_ + ": starts when it has ended");
  while (!run_.aborted() && !ready_())
    run_.sleep_until(MonoClock::now() + std::chrono::milliseconds(100));
  if (run_.aborted()) return false;
  run_.note("no longer queued: the runs ahead have ended");
  return true;
}

void RunEngine::execute() {
  set_state(pb::RUN_STATE_PENDING);
  // Which nodes this run hits and why, in its own journal: reproducible with the seed.
  for (const auto& [target, p] : plan_.targets)
    run_.note(fmt::format("target {} -> {}: {}", target, fmt::join(p.nodes, ", "), p.why));
  for (const auto& n : plan_.notes) run_.note(n);
  if (!wait_in_queue()) {
    never_started_ = true;
    finish(pb::RUN_STATE_ABORTED, "aborted while queued: " + run_.abort_reason(), -1);
    if (on_finished_) on_finished_(*this);
    return;
  }
  int64_t ttr = -1;
  auto [verdict, reason] = run_phases(ttr);
  fan_out_.collect_renewals(true);
  if (auto lost = fan_out_.nodes_lost(); !lost.empty() && verdict != pb::RUN_STATE_ERROR)
    reason +=
        fmt::format("; continued without {} (on_node_failure: continue)", fmt::join(lost, ", "));
  polled_.reset();         // the run's probes are gone; stop asking Jaeger/Zipkin
  fan_out_.close_spans();  // sends what is queued
  finish(verdict, reason, ttr);
  if (on_finished_) on_finished_(*this);
}

}  // namespace faultline::controller
