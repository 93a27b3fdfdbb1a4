#include "controller/run/run_engine.h"

#include <future>
#include <random>

#include "common/exit_codes.h"
#include "common/ids.h"
#include "common/log.h"
#include "controller/run/fault_translation.h"

namespace faultline::controller {

int exit_code_for(pb::RunState state) {
  switch (state) {
    case pb::RUN_STATE_PASSED:
      return kExitPassed;
    case pb::RUN_STATE_FAILED:
      return kExitHypothesisFailed;
    case pb::RUN_STATE_ABORTED:
      return kExitAborted;
    default:
      return kExitInvalidOrInfra;
  }
}

const char* state_name(pb::RunState state) {
  switch (state) {
    case pb::RUN_STATE_PENDING:
      return "PENDING";
    case pb::RUN_STATE_STEADY_STATE_CHECK:
      return "STEADY_STATE_CHECK";
    case pb::RUN_STATE_INJECTING:
      return "INJECTING";
    case pb::RUN_STATE_RECOVERING:
      return "RECOVERING";
    case pb::RUN_STATE_PASSED:
      return "PASSED";
    case pb::RUN_STATE_FAILED:
      return "FAILED";
    case pb::RUN_STATE_ABORTED:
      return "ABORTED";
    case pb::RUN_STATE_ERROR:
      return "ERROR";
    default:
      return "UNKNOWN";
  }
}

RunEngine::RunEngine(std::string run_id, experiments::Experiment experiment,
                     InjectorRegistry& registry, RunSettings settings)
    : run_id_(std::move(run_id)),
      experiment_(std::move(experiment)),
      registry_(registry),
      settings_(settings),
      journal_(run_id_) {}

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
  set_state(verdict);
  pb::RunEvent ev;
  ev.set_type(pb::EVENT_TYPE_RUN_FINISHED);
  ev.set_state(verdict);
  ev.set_message(reason);
  auto* s = ev.mutable_summary();
  s->set_verdict(verdict);
  s->set_reason(reason);
  s->set_time_to_recover_ms(ttr_ms);
  auto events = journal_.events();
  s->set_started_unix_ms(events.empty() ? unix_millis_now() : events.front().unix_ms());
  s->set_ended_unix_ms(unix_millis_now());
  s->set_exit_code(exit_code_for(verdict));
  s->set_experiment_name(experiment_.metadata.name);
  if (experiment_.recovery)
    s->set_recovery_deadline_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(experiment_.recovery->deadline)
            .count());
  journal_.append(ev);
  spdlog::info("run finished run={} verdict={} reason=\"{}\"", run_id_, state_name(verdict),
               reason);
}

void RunEngine::journal_probe(const std::string& name, pb::ProbePhase phase,
                              const ProbeOutcome& o) {
  pb::RunEvent ev;
  ev.set_type(pb::EVENT_TYPE_PROBE_RESULT);
  ev.set_state(state_);
  auto* r = ev.mutable_probe();
  r->set_name(name);
  r->set_phase(phase);
  r->set_ok(o.ok);
  r->set_observed(o.observed);
  r->set_latency_ms(to_millis(o.latency));
  journal_.append(ev);
}

std::string RunEngine::check_probes(std::vector<std::unique_ptr<Probe>>& probes,
                                    pb::ProbePhase phase) {
  std::string first_failure;
  for (auto& probe : probes) {
    ProbeOutcome o = probe->run();
    journal_probe(probe->name(), phase, o);
    if (!o.ok && first_failure.empty()) first_failure = probe->name() + " observed " + o.observed;
  }
  return first_failure;
}

std::string RunEngine::select_nodes() {
  thread_local std::mt19937 rng{std::random_device{}()};
  for (const auto& target : experiment_.targets) {
    std::vector<std::shared_ptr<InjectorLink>> matched;
    for (auto& link : registry_.all()) {
      const auto& labels = link->info().labels;
      bool ok = true;
      for (const auto& [k, v] : target.nodes.selector) {
        auto it = labels.find(k);
        if (it == labels.end() || it->second != v) ok = false;
      }
      if (ok && link->connected()) matched.push_back(link);
    }
    if (matched.empty()) {
      std::string wanted;
      for (const auto& [k, v] : target.nodes.selector)
        wanted += (wanted.empty() ? "" : ",") + k + "=" + v;
      return "no connected injector matches target \"" + target.name + "\"" +
             (wanted.empty() ? "" : " (selector " + wanted + ")") +
             "; connected: " + std::to_string(registry_.all().size());
    }
    if (target.nodes.mode == experiments::NodeMode::kOne && matched.size() > 1) {
      std::uniform_int_distribution<size_t> pick(0, matched.size() - 1);
      matched = {matched[pick(rng)]};
    }
    nodes_by_target_[target.name] = std::move(matched);
  }
  return "";
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

std::string RunEngine::apply_fault(const experiments::FaultSpec& fault) {
  const auto* target = experiment_.find_target(fault.target);
  pb::FaultSpec wire = to_wire(fault, *target);
  auto& links = nodes_by_target_[fault.target];
  // One call per node, in parallel, so a slow node does not delay the others' start.
  std::vector<std::pair<ActiveFault, std::future<Result<pb::AppliedState>>>> calls;
  for (const auto& link : links) {
    ActiveFault af{new_id("f"), &fault, link};
    auto fut = std::async(std::launch::async, [this, af, wire] {
      return af.link->apply(af.fault_id, run_id_, wire, settings_.lease);
    });
    calls.emplace_back(std::move(af), std::move(fut));
  }
  std::string first_error;
  for (auto& [af, fut] : calls) {
    auto result = fut.get();
    pb::RunEvent ev = fault_event(af);
    auto* f = ev.mutable_fault();
    if (result) {
      ev.set_type(pb::EVENT_TYPE_FAULT_APPLIED);
      *f->mutable_state() = *result;
      std::lock_guard lock(mu_);
      active_.push_back(af);
    } else {
      ev.set_type(pb::EVENT_TYPE_FAULT_FAILED);
      f->set_error(result.error().message);
      if (first_error.empty())
        first_error = "fault \"" + fault.name + "\" failed on node " + af.link->info().node_name +
                      ": " + result.error().message;
    }
    journal_.append(ev);
  }
  return first_error;
}

std::string RunEngine::revert(std::vector<ActiveFault> faults) {
  std::vector<std::future<Status>> calls;
  for (const auto& af : faults)
    calls.push_back(std::async(std::launch::async, [af] { return af.link->revert(af.fault_id); }));
  std::string first_error;
  for (size_t i = 0; i < faults.size(); ++i) {
    Status s = calls[i].get();
    pb::RunEvent ev = fault_event(faults[i]);
    auto* f = ev.mutable_fault();
    if (s) {
      ev.set_type(pb::EVENT_TYPE_FAULT_REVERTED);
    } else {
      // The injector's lease still reverts it; say so loudly rather than hide it.
      ev.set_type(pb::EVENT_TYPE_FAULT_FAILED);
      f->set_error("revert failed: " + s.error().message +
                   " (the injector's lease will revert it)");
      if (first_error.empty()) first_error = f->error();
    }
    journal_.append(ev);
  }
  return first_error;
}

std::string RunEngine::revert_all_active() {
  std::vector<ActiveFault> all;
  {
    std::lock_guard lock(mu_);
    all.swap(active_);
  }
  return revert(std::move(all));
}

bool RunEngine::hold_until(MonoTime until) {
  std::unique_lock lock(mu_);
  MonoTime next_renew = MonoClock::now() + settings_.renew_interval;
  while (!abort_requested_ && MonoClock::now() < until) {
    cv_.wait_until(lock, std::min(until, next_renew), [&] { return abort_requested_.load(); });
    if (abort_requested_) break;
    if (MonoClock::now() >= next_renew) {
      auto active = active_;
      lock.unlock();
      for (const auto& af : active) {
        Status s = af.link->renew(af.fault_id, settings_.lease);
        if (!s)
          spdlog::warn("lease renewal failed run={} fault_id={} error=\"{}\"", run_id_, af.fault_id,
                       s.error().message);
      }
      lock.lock();
      next_renew = MonoClock::now() + settings_.renew_interval;
    }
  }
  return !abort_requested_;
}

int64_t RunEngine::await_recovery(MonoTime window_end) {
  const auto& rec = *experiment_.recovery;
  std::vector<std::unique_ptr<Probe>> checks;
  for (const auto& c : rec.checks) checks.push_back(make_probe(c));
  MonoTime deadline = window_end + rec.deadline;
  std::vector<int> last(checks.size(), -1);  // -1 unknown, 0 failing, 1 passing
  for (;;) {
    bool all_ok = true;
    for (size_t i = 0; i < checks.size(); ++i) {
      ProbeOutcome o = checks[i]->run();
      all_ok = all_ok && o.ok;
      // Journal the first result and every change, not every poll: a 10 s wait at 100 ms
      // would otherwise bury the story in identical lines.
      if (last[i] == static_cast<int>(o.ok)) continue;
      last[i] = o.ok;
      journal_probe(checks[i]->name(), pb::PROBE_PHASE_RECOVERY, o);
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

void RunEngine::execute() {
  set_state(pb::RUN_STATE_PENDING);
  std::vector<std::unique_ptr<Probe>> steady;
  for (const auto& p : experiment_.steady_state) steady.push_back(make_probe(p));

  set_state(pb::RUN_STATE_STEADY_STATE_CHECK);
  if (std::string bad = check_probes(steady, pb::PROBE_PHASE_STEADY_STATE_BEFORE); !bad.empty())
    return finish(pb::RUN_STATE_FAILED,
                  "system was not steady before injection: " + bad + "; nothing was injected");
  if (aborted()) return finish(pb::RUN_STATE_ABORTED, abort_reason_ + "; nothing was injected");
  if (std::string err = select_nodes(); !err.empty())
    return finish(pb::RUN_STATE_ERROR, err + "; nothing was injected");

  set_state(pb::RUN_STATE_INJECTING);
  for (const auto& fault : experiment_.faults) {
    if (aborted()) break;
    if (std::string err = apply_fault(fault); !err.empty()) {
      revert_all_active();
      return finish(pb::RUN_STATE_ERROR, err + "; every applied fault was reverted");
    }
    if (!hold_until(MonoClock::now() + fault.duration)) break;
    std::vector<ActiveFault> done;
    {
      std::lock_guard lock(mu_);
      done.swap(active_);
    }
    if (std::string err = revert(std::move(done)); !err.empty()) note(err);
  }
  if (aborted()) {
    std::string err = revert_all_active();
    return finish(pb::RUN_STATE_ABORTED,
                  abort_reason_ + (err.empty() ? "; every fault was reverted" : "; " + err));
  }
  MonoTime window_end = MonoClock::now();

  int64_t ttr = -1;
  if (experiment_.recovery && !experiment_.recovery->checks.empty()) {
    set_state(pb::RUN_STATE_RECOVERING);
    ttr = await_recovery(window_end);
    if (aborted())
      return finish(pb::RUN_STATE_ABORTED, abort_reason_ + "; every fault was reverted");
    if (ttr < 0)
      return finish(pb::RUN_STATE_FAILED,
                    "did not recover within " + format_duration(experiment_.recovery->deadline));
    pb::RunEvent ev;
    ev.set_type(pb::EVENT_TYPE_RECOVERED);
    ev.set_state(state_);
    ev.set_time_to_recover_ms(ttr);
    journal_.append(ev);
  }

  if (std::string bad = check_probes(steady, pb::PROBE_PHASE_STEADY_STATE_AFTER); !bad.empty())
    return finish(pb::RUN_STATE_FAILED, "steady state did not hold after recovery: " + bad, ttr);
  finish(pb::RUN_STATE_PASSED,
         ttr >= 0 ? "recovered in " + std::to_string(ttr) + " ms and steady state holds"
                  : "steady state holds",
         ttr);
}

}  // namespace faultline::controller
