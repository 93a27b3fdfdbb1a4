#include "controller/run/run_engine.h"

#include "controller/watch/process_restarted_probe.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "common/command_runner.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time_util.h"
#include "controller/run/fault_translation.h"

namespace faultline::controller {

RunEngine::RunEngine(std::string run_id, experiments::Experiment experiment, Plan plan,
                     InjectorRegistry& registry, RunSettings settings, SliStore* traces)
    : run_id_(std::move(run_id)),
      experiment_(std::move(experiment)),
      plan_(std::move(plan)),
      registry_(registry),
      settings_(settings),
      traces_(traces),
      journal_(run_id_) {
  if (!settings_.otlp_export.empty())
    fault_spans_ = std::make_unique<FaultSpanExporter>(settings_.otlp_export);
}

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

bool RunEngine::abort(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (journal_.finished() || abort_requested_) return false;
    abort_reason_ = reason;
    abort_at_ = MonoClock::now();
    abort_requested_ = true;
  }
  cv_.notify_all();
  spdlog::warn("run abort requested run={} reason=\"{}\"", run_id_, reason);
  return true;
}

void RunEngine::set_state(pb::RunState s) {
  state_ = s;
  pb::RunEvent ev;
  ev.set_type(pb::EVENT_TYPE_STATE_CHANGED);
  ev.set_state(s);
  journal_.append(ev);
  spdlog::info("run state run={} state={}", run_id_, state_name(s));
}

void RunEngine::note(const std::string& message) {
  pb::RunEvent ev;
  ev.set_type(pb::EVENT_TYPE_NOTE);
  ev.set_state(state_);
  ev.set_message(message);
  journal_.append(ev);
}

void RunEngine::finish(pb::RunState verdict, const std::string& reason, int64_t ttr_ms) {
  if (!never_started_) run_rollbacks(verdict);  // a queued run changed nothing to roll back
  set_state(verdict);
  pb::RunEvent ev;
  ev.set_type(pb::EVENT_TYPE_RUN_FINISHED);
  ev.set_state(verdict);
  ev.set_message(reason);
  auto* s = ev.mutable_summary();
  s->set_verdict(verdict);
  s->set_reason(reason);
  s->set_time_to_recover_ms(ttr_ms);
  s->set_abort_to_reverted_ms(abort_to_reverted_ms_);
  auto events = journal_.events();
  s->set_started_unix_ms(events.empty() ? unix_millis_now() : events.front().unix_ms());
  s->set_ended_unix_ms(unix_millis_now());
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
  {
    std::lock_guard lock(series_mu_);
    for (const auto& [_, ser] : series_) *s->add_series() = ser;
  }
  journal_.append(ev);
  spdlog::info("run finished run={} verdict={} reason=\"{}\"", run_id_, state_name(verdict),
               reason);
}

pb::Run RunEngine::record() const {
  pb::Run r;
  r.set_run_id(run_id_);
  r.set_experiment_name(experiment_.metadata.name);
  r.set_state(state_);
  for (const auto& ev : journal_.events()) {
    *r.add_events() = ev;
    if (ev.type() == pb::EVENT_TYPE_RUN_FINISHED) *r.mutable_summary() = ev.summary();
  }
  return r;
}

void RunEngine::sample(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o) {
  constexpr int kMaxPoints = 1000;
  std::lock_guard lock(series_mu_);
  pb::ProbeSeries& s = series_[{phase, name}];
  if (s.name().empty()) {
    s.set_name(name);
    s.set_phase(phase);
    s.set_unit(o.value ? o.unit : "ms");
  }
  if (o.threshold) {
    s.set_has_threshold(true);
    s.set_threshold(*o.threshold);
  }
  s.add_elapsed_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - journal_.started())
          .count());
  s.add_values(o.value ? *o.value : to_millis(o.latency));
  s.add_ok(o.ok);
  if (s.values_size() < 2 * kMaxPoints) return;
  // Long runs: keep every other point, so memory stays bounded and the shape stays.
  pb::ProbeSeries thin = s;
  thin.clear_elapsed_ms();
  thin.clear_values();
  thin.clear_ok();
  for (int i = 0; i < s.values_size(); i += 2) {
    thin.add_elapsed_ms(s.elapsed_ms(i));
    thin.add_values(s.values(i));
    thin.add_ok(s.ok(i));
  }
  s = std::move(thin);
}

void RunEngine::journal_probe(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o,
                              int64_t recovered_after_ms) {
  pb::RunEvent ev;
  ev.set_type(pb::EVENT_TYPE_PROBE_RESULT);
  ev.set_state(state_);
  auto* r = ev.mutable_probe();
  r->set_name(name);
  r->set_phase(phase);
  r->set_ok(o.ok);
  r->set_observed(o.observed);
  r->set_latency_ms(to_millis(o.latency));
  r->set_recovered_after_ms(recovered_after_ms);
  journal_.append(ev);
}

ProbeContext RunEngine::probe_context() {
  ProbeContext ctx;
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
  return ctx;
}

bool RunEngine::sleep_until(MonoTime until) {
  std::unique_lock lock(mu_);
  return !cv_.wait_until(lock, until, [&] { return abort_requested_.load(); });
}

std::string RunEngine::check_probes(std::vector<std::unique_ptr<Probe>>& probes,
                                    const std::vector<experiments::ProbeSpec>& specs,
                                    pb::ProbePhase phase) {
  std::string first_failure;
  MonoTime phase_start = MonoClock::now();
  for (size_t i = 0; i < probes.size(); ++i) {
    auto& probe = probes[i];
    if (!sleep_until(phase_start + specs[i].timing.initial_delay)) break;
    ProbeOutcome o = probe->run();
    sample(probe->name(), phase, o);
    journal_probe(probe->name(), phase, o);
    if (!o.ok && first_failure.empty()) first_failure = probe->name() + " observed " + o.observed;
  }
  return first_failure;
}

pb::RunEvent RunEngine::fault_event(const ActiveFault& af) const {
  pb::RunEvent ev;
  ev.set_state(state_);
  auto* f = ev.mutable_fault();
  f->set_fault_name(af.spec->name);
  f->set_fault_id(af.fault_id);
  f->set_kind(af.spec->kind);
  f->set_node(af.link->info().node_name);
  return ev;
}

std::string RunEngine::node_failed(const experiments::FaultSpec& fault, const std::string& node,
                                   const std::string& what) {
  if (experiment_.node_failure_policy(fault) == experiments::NodeFailurePolicy::kAbort)
    return "fault \"" + fault.name + "\" " + what + " on node " + node;
  {
    std::lock_guard lock(mu_);
    nodes_lost_.push_back(node + " (fault \"" + fault.name + "\")");
  }
  note("fault \"" + fault.name + "\" " + what + " on node " + node +
       "; continuing with the other nodes (on_node_failure: continue)");
  return "";
}

std::string RunEngine::apply(size_t planned_index, std::vector<ActiveFault>& applied) {
  const PlannedFault& pf = plan_.faults[planned_index];
  const auto& fault = experiment_.faults[pf.window.fault_index];
  pb::FaultSpec wire = to_wire(fault, *experiment_.find_target(fault.target));
  // Every node's command is sent first and the answers read after, so nodes apply in
  // parallel and a slow node does not delay the others (nor costs a thread).
  std::vector<std::pair<ActiveFault, Reply<pb::AppliedState>>> calls;
  std::string first_error;
  // Journaled together once every node has answered (one store transaction, one audit
  // sync); the failures are acted on after, so their notes follow their events.
  std::vector<pb::RunEvent> events;
  std::vector<std::pair<std::string, std::string>> failures;  // node, what
  auto failed = [&](const std::string& node, const std::string& what) {
    failures.emplace_back(node, what);
  };
  for (const auto& node : pf.nodes) {
    auto link = registry_.find(node);
    if (!link || !link->connected()) {
      pb::RunEvent ev;
      ev.set_type(pb::EVENT_TYPE_FAULT_FAILED);
      ev.set_state(state_);
      auto* f = ev.mutable_fault();
      f->set_fault_name(fault.name);
      f->set_kind(fault.kind);
      f->set_node(node);
      f->set_error("node is no longer connected");
      events.push_back(std::move(ev));
      failed(node, "could not be applied: the node is no longer connected");
      continue;
    }
    ActiveFault af{new_id("f"), &fault, link, 0, {}};
    // The planned window plus one lease of slack: if the controller cannot end the fault
    // (stuck, partitioned, renewing by mistake) the injector still ends it by itself.
    Duration max_duration = pf.window.end - pf.window.start + settings_.lease;
    auto reply = af.link->start_apply(af.fault_id, run_id_, wire, settings_.lease, max_duration);
    calls.emplace_back(std::move(af), std::move(reply));
  }
  for (auto& [af, reply] : calls) {
    auto result = reply.get();
    pb::RunEvent ev = fault_event(af);
    auto* f = ev.mutable_fault();
    if (result) {
      ev.set_type(pb::EVENT_TYPE_FAULT_APPLIED);
      *f->mutable_state() = *result;
      af.applied_unix_ns = unix_nanos_now();
      {
        std::lock_guard lock(mu_);
        for (const auto& p : result->processes()) {
          touched_[fault.target].insert({p.pid(), p.start_time_ticks()});
          af.pids += (af.pids.empty() ? "" : ",") + std::to_string(p.pid());
        }
      }
      applied.push_back(af);
      events.push_back(std::move(ev));
    } else {
      ev.set_type(pb::EVENT_TYPE_FAULT_FAILED);
      f->set_error(result.error().message);
      events.push_back(std::move(ev));
      failed(af.link->info().node_name, "failed: " + result.error().message);
    }
  }
  journal_.append_all(std::move(events));
  for (const auto& [node, what] : failures) {
    std::string err = node_failed(fault, node, what);
    if (first_error.empty()) first_error = err;
  }
  if (first_error.empty() && applied.empty() && !pf.nodes.empty())
    first_error = "fault \"" + fault.name + "\" could not be applied on any of its " +
                  std::to_string(pf.nodes.size()) + " node(s)";
  return first_error;
}

std::string RunEngine::drop_disconnected() {
  std::vector<ActiveFault> lost;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, faults] : active_) {
      std::erase_if(faults, [&](const ActiveFault& af) {
        // A link replaced by a reconnect belongs to an injector that restarted: the fault
        // it held was reverted from its ledger, not by us.
        bool gone = !af.link->connected() || registry_.find(af.link->info().node_name) != af.link;
        if (gone) lost.push_back(af);
        return gone;
      });
    }
  }
  std::string first_error;
  for (const auto& af : lost) {
    const std::string& node = af.link->info().node_name;
    spdlog::warn("injector disconnected mid-run run={} node={} fault_id={}", run_id_, node,
                 af.fault_id);
    af.link->disconnect();  // a silent stream is cut, so the node dials again once it can
    pb::RunEvent ev = fault_event(af);
    ev.set_type(pb::EVENT_TYPE_FAULT_FAILED);
    ev.mutable_fault()->set_error("injector disconnected mid-run; its lease (" +
                                  format_duration(settings_.lease) + ") reverts the fault");
    journal_.append(ev);
    if (on_fault_lost_) on_fault_lost_(af.fault_id, node, af.spec->name);
    std::string err = node_failed(*af.spec, node, "was lost: the injector disconnected");
    if (first_error.empty()) first_error = err;
  }
  return first_error;
}

void RunEngine::collect_renewals(bool all) {
  std::erase_if(renewals_, [&](Renewal& r) {
    if (!all && !r.reply.ready()) return false;
    Status s = r.reply.get();
    if (!s)
      spdlog::warn("lease renewal failed run={} node={} fault_id={} error=\"{}\"", run_id_,
                   r.fault.link->info().node_name, r.fault.fault_id, s.error().message);
    return true;
  });
}

std::string RunEngine::revert(std::vector<ActiveFault> faults) {
  // All sent, then all read, as apply() does.
  std::vector<Reply<std::string>> calls;
  calls.reserve(faults.size());
  for (const auto& af : faults) calls.push_back(af.link->start_revert(af.fault_id));
  std::string first_error;
  std::vector<pb::RunEvent> events;  // journaled together, as apply() does
  for (size_t i = 0; i < faults.size(); ++i) {
    auto s = calls[i].get();
    pb::RunEvent ev = fault_event(faults[i]);
    auto* f = ev.mutable_fault();
    if (s) {
      ev.set_type(pb::EVENT_TYPE_FAULT_REVERTED);
      f->set_achieved(*s);
    } else {
      // The injector's lease still reverts it; say so loudly rather than hide it.
      ev.set_type(pb::EVENT_TYPE_FAULT_FAILED);
      f->set_error("revert failed: " + s.error().message +
                   " (the injector's lease will revert it)");
      if (first_error.empty()) first_error = f->error();
    }
    if (fault_spans_) {
      const ActiveFault& af = faults[i];
      fault_spans_->export_window({run_id_, experiment_.metadata.name, af.spec->name, af.spec->kind,
                                   af.spec->target, af.link->info().node_name, af.pids,
                                   f->achieved(), af.applied_unix_ns, unix_nanos_now(),
                                   f->error()});
    }
    events.push_back(std::move(ev));
  }
  journal_.append_all(std::move(events));
  return first_error;
}

std::string RunEngine::revert_all_active() {
  std::vector<ActiveFault> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, faults] : active_) all.insert(all.end(), faults.begin(), faults.end());
    active_.clear();
  }
  return revert(std::move(all));
}

bool RunEngine::hold_until(MonoTime until) {
  // A dropped injector is noticed within this, not only at the next renewal.
  constexpr auto kLinkCheck = std::chrono::milliseconds(250);
  std::unique_lock lock(mu_);
  MonoTime next_renew = MonoClock::now() + settings_.renew_interval;
  MonoTime next_check = MonoClock::now() + kLinkCheck;
  while (!abort_requested_ && node_loss_error_.empty() && MonoClock::now() < until) {
    cv_.wait_until(lock, std::min({until, next_renew, next_check}),
                   [&] { return abort_requested_.load(); });
    if (abort_requested_) break;
    if (MonoClock::now() >= next_check) {
      lock.unlock();
      std::string err = drop_disconnected();
      lock.lock();
      if (!err.empty() && node_loss_error_.empty()) node_loss_error_ = err;
      if (!node_loss_error_.empty()) break;
      next_check = MonoClock::now() + kLinkCheck;
    }
    if (MonoClock::now() >= next_renew) {
      std::vector<ActiveFault> active;
      for (const auto& [_, faults] : active_)
        active.insert(active.end(), faults.begin(), faults.end());
      lock.unlock();
      // Sent to every node and never waited for here: a node that does not answer
      // (partitioned, frozen) must not hold up the others' renewals until their leases run
      // out, nor the check for lost nodes. The answers are read as they come, below. A
      // silent node is not asked at all.
      for (const auto& af : active)
        if (af.link->connected())
          renewals_.push_back({af, af.link->start_renew(af.fault_id, settings_.lease)});
      lock.lock();
      next_renew = MonoClock::now() + settings_.renew_interval;
    }
    lock.unlock();
    collect_renewals(false);
    lock.lock();
  }
  return !abort_requested_ && node_loss_error_.empty();
}

std::string RunEngine::inject() {
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
    if (!hold_until(t0 + actions[i].at)) {
      std::lock_guard lock(mu_);
      return node_loss_error_;  // "" when aborted: run_phases reports the abort
    }
    size_t j = i;
    std::vector<ActiveFault> to_revert;
    std::vector<size_t> to_apply;
    for (; j < actions.size() && actions[j].at == actions[i].at; ++j) {
      if (actions[j].apply) {
        to_apply.push_back(actions[j].planned);
      } else {
        std::lock_guard lock(mu_);
        auto it = active_.find(actions[j].planned);
        if (it != active_.end()) {
          to_revert.insert(to_revert.end(), it->second.begin(), it->second.end());
          active_.erase(it);
        }
      }
    }
    i = j;
    if (std::string err = revert(std::move(to_revert)); !err.empty()) note(err);
    // Faults starting together are applied together.
    std::vector<std::future<std::pair<std::string, std::vector<ActiveFault>>>> calls;
    for (size_t p : to_apply)
      calls.push_back(std::async(std::launch::async, [this, p] {
        std::vector<ActiveFault> applied;
        std::string err = apply(p, applied);
        return std::make_pair(err, applied);
      }));
    std::string first_error;
    for (size_t k = 0; k < calls.size(); ++k) {
      auto [err, applied] = calls[k].get();
      {
        std::lock_guard lock(mu_);
        active_[to_apply[k]] = std::move(applied);
      }
      if (first_error.empty()) first_error = err;
    }
    if (!first_error.empty()) return first_error;
  }
  return "";
}

void RunEngine::watch_guardrails() {
  struct Watch {
    const experiments::Guardrail* spec;
    std::unique_ptr<Probe> probe;
    Duration interval;
    MonoTime next;
    std::optional<MonoTime> failing_since;
    int last = -1;  // -1 unknown, 0 failing, 1 passing
  };
  std::vector<Watch> watches;
  ProbeContext ctx = probe_context();
  MonoTime start = MonoClock::now();
  for (const auto& g : experiment_.abort_when) {
    experiments::ProbeSpec ps{g.name, g.where, g.probe, g.timing};
    watches.push_back({&g, make_probe(ps, ctx), g.timing.interval.value_or(g.interval),
                       start + g.timing.initial_delay, std::nullopt});
  }
  if (watches.empty()) return;
  std::unique_lock lock(mu_);
  while (injecting_ && !abort_requested_) {
    MonoTime next = watches.front().next;
    for (const auto& w : watches) next = std::min(next, w.next);
    cv_.wait_until(lock, next, [&] { return !injecting_ || abort_requested_.load(); });
    if (!injecting_ || abort_requested_) return;
    lock.unlock();
    for (auto& w : watches) {
      MonoTime now = MonoClock::now();
      if (now < w.next) continue;
      w.next = now + w.interval;
      ProbeOutcome o = w.probe->run();
      sample(w.probe->name(), pb::PROBE_PHASE_GUARDRAIL, o);
      // The story of a guardrail is its changes, not every 100 ms poll.
      if (w.last != static_cast<int>(o.ok)) {
        w.last = o.ok;
        journal_probe(w.spec->name, pb::PROBE_PHASE_GUARDRAIL, o);
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
        pb::RunEvent ev;
        ev.set_type(pb::EVENT_TYPE_GUARDRAIL_BREACHED);
        ev.set_state(state_);
        ev.set_message(why);
        auto* g = ev.mutable_guardrail();
        g->set_name(w.spec->name);
        g->set_observed(o.observed);
        g->set_held_ms(held.count());
        journal_.append(ev);
        abort(why);
        return;
      }
    }
    lock.lock();
  }
}

int64_t RunEngine::await_recovery(MonoTime window_end) {
  const auto& rec = *experiment_.recovery;
  std::vector<std::unique_ptr<Probe>> checks;
  ProbeContext ctx = probe_context();
  for (const auto& c : rec.checks) {
    if (const auto* pr = std::get_if<experiments::ProcessRestartedSpec>(&c.kind)) {
      const auto* target = experiment_.find_target(pr->target);
      std::vector<std::shared_ptr<InjectorLink>> links;
      for (const auto& node : plan_.targets[pr->target].nodes)
        if (auto link = registry_.find(node)) links.push_back(link);
      std::lock_guard lock(mu_);
      checks.push_back(std::make_unique<ProcessRestartedProbe>(
          c.name, selector_to_wire(*target->process), std::move(links), touched_[pr->target]));
      continue;
    }
    checks.push_back(make_probe(c, ctx));
  }
  MonoTime deadline = window_end + rec.deadline;
  std::vector<int> last(checks.size(), -1);  // -1 unknown, 0 failing, 1 passing
  std::vector<bool> recovered(checks.size(), false);
  for (;;) {
    bool all_ok = true;
    for (size_t i = 0; i < checks.size(); ++i) {
      if (MonoClock::now() < window_end + rec.checks[i].timing.initial_delay) {
        all_ok = false;
        continue;
      }
      ProbeOutcome o = checks[i]->run();
      sample(checks[i]->name(), pb::PROBE_PHASE_RECOVERY, o);
      all_ok = all_ok && o.ok;
      // Journal the first result and every change, not every poll: a 10 s wait at 100 ms
      // would otherwise bury the story in identical lines.
      if (last[i] == static_cast<int>(o.ok)) continue;
      last[i] = o.ok;
      // Each check's own time to recover: its first pass after the faults went away.
      int64_t after = -1;
      if (o.ok && !recovered[i]) {
        recovered[i] = true;
        after = std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - window_end)
                    .count();
      }
      journal_probe(checks[i]->name(), pb::PROBE_PHASE_RECOVERY, o, after);
    }
    MonoTime now = MonoClock::now();
    if (all_ok)
      return std::chrono::duration_cast<std::chrono::milliseconds>(now - window_end).count();
    if (now >= deadline) return -1;
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, std::min(deadline, now + rec.interval),
                       [&] { return abort_requested_.load(); }))
      return -1;
  }
}

void RunEngine::run_rollbacks(pb::RunState ending) {
  static const std::map<pb::RunState, std::string> kEnding = {{pb::RUN_STATE_PASSED, "passed"},
                                                              {pb::RUN_STATE_FAILED, "failed"},
                                                              {pb::RUN_STATE_ABORTED, "aborted"},
                                                              {pb::RUN_STATE_ERROR, "error"}};
  const std::string& name = kEnding.at(ending);
  for (const auto& rb : experiment_.rollbacks) {
    if (!rb.on.empty() && std::find(rb.on.begin(), rb.on.end(), name) == rb.on.end()) continue;
    std::string result;
    if (const auto* cmd = std::get_if<experiments::CommandAction>(&rb.action)) {
      auto r = run_command(cmd->argv, cmd->timeout);
      if (!r)
        result = "could not run: " + r.error().message;
      else if (r->timed_out)
        result = "timed out after " + format_duration(cmd->timeout);
      else
        result = "exit code " + std::to_string(r->exit_code);
    } else {
      const auto& http = std::get<experiments::HttpProbeSpec>(rb.action);
      experiments::ProbeTiming timing;
      timing.timeout = http.timeout;
      experiments::ProbeSpec ps{rb.name, rb.where, http, timing};
      ProbeOutcome o = make_probe(ps, probe_context())->run();
      result = (o.ok ? "ok: " : "FAILED: ") + o.observed;
    }
    note("rollback " + rb.name + ": " + result);
  }
}

std::pair<pb::RunState, std::string> RunEngine::run_phases(int64_t& ttr) {
  std::vector<std::unique_ptr<Probe>> steady;
  ProbeContext ctx = probe_context();
  for (const auto& p : experiment_.steady_state) steady.push_back(make_probe(p, ctx));

  set_state(pb::RUN_STATE_STEADY_STATE_CHECK);
  if (std::string bad =
          check_probes(steady, experiment_.steady_state, pb::PROBE_PHASE_STEADY_STATE_BEFORE);
      !bad.empty())
    return {pb::RUN_STATE_FAILED,
            "system was not steady before injection: " + bad + "; nothing was injected"};
  if (aborted()) return {pb::RUN_STATE_ABORTED, abort_reason_ + "; nothing was injected"};

  set_state(pb::RUN_STATE_INJECTING);
  injecting_ = true;
  std::thread guard([this] { watch_guardrails(); });
  std::string err = inject();
  {
    std::lock_guard lock(mu_);
    injecting_ = false;
  }
  cv_.notify_all();
  guard.join();
  std::string revert_err = revert_all_active();
  if (aborted()) {
    std::lock_guard lock(mu_);
    pb::RunEvent ev;
    ev.set_type(pb::EVENT_TYPE_ALL_REVERTED);
    ev.set_state(state_);
    abort_to_reverted_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - *abort_at_)
            .count();
    ev.set_since_abort_ms(abort_to_reverted_ms_);
    journal_.append(ev);
  }
  if (!err.empty()) return {pb::RUN_STATE_ERROR, err + "; every applied fault was reverted"};
  if (aborted())
    return {
        pb::RUN_STATE_ABORTED,
        abort_reason_ + (revert_err.empty() ? "; every fault was reverted" : "; " + revert_err)};
  MonoTime window_end = MonoClock::now();

  if (experiment_.recovery && !experiment_.recovery->checks.empty()) {
    set_state(pb::RUN_STATE_RECOVERING);
    ttr = await_recovery(window_end);
    if (aborted()) return {pb::RUN_STATE_ABORTED, abort_reason_ + "; every fault was reverted"};
    if (ttr < 0)
      return {pb::RUN_STATE_FAILED,
              "did not recover within " + format_duration(experiment_.recovery->deadline)};
    pb::RunEvent ev;
    ev.set_type(pb::EVENT_TYPE_RECOVERED);
    ev.set_state(state_);
    ev.set_time_to_recover_ms(ttr);
    journal_.append(ev);
  }
  if (std::string bad =
          check_probes(steady, experiment_.steady_state, pb::PROBE_PHASE_STEADY_STATE_AFTER);
      !bad.empty())
    return {pb::RUN_STATE_FAILED, "steady state did not hold after recovery: " + bad};
  return {pb::RUN_STATE_PASSED,
          ttr >= 0 ? "recovered in " + std::to_string(ttr) + " ms and steady state holds"
                   : "steady state holds"};
}

void RunEngine::execute() {
  set_state(pb::RUN_STATE_PENDING);
  // Which nodes this run hits and why, in its own journal: reproducible with the seed.
  for (const auto& [target, p] : plan_.targets)
    note(fmt::format("target {} -> {}: {}", target, fmt::join(p.nodes, ", "), p.why));
  for (const auto& n : plan_.notes) note(n);
  if (ready_ && !ready_()) {
    note("queued behind " + queued_behind_ + ": starts when it has ended");
    std::unique_lock lock(mu_);
    while (!abort_requested_ && !ready_()) cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (abort_requested_) {
      std::string why = "aborted while queued: " + abort_reason_;
      never_started_ = true;
      lock.unlock();
      finish(pb::RUN_STATE_ABORTED, why, -1);
      if (on_finished_) on_finished_(*this);
      return;
    }
    lock.unlock();
    note("no longer queued: the runs ahead have ended");
  }
  int64_t ttr = -1;
  auto [verdict, reason] = run_phases(ttr);
  collect_renewals(true);
  {
    std::lock_guard lock(mu_);
    if (!nodes_lost_.empty() && verdict != pb::RUN_STATE_ERROR)
      reason += fmt::format("; continued without {} (on_node_failure: continue)",
                            fmt::join(nodes_lost_, ", "));
  }
  polled_.reset();       // the run's probes are gone; stop asking Jaeger/Zipkin
  fault_spans_.reset();  // sends what is queued
  finish(verdict, reason, ttr);
  if (on_finished_) on_finished_(*this);
}

}  // namespace faultline::controller
