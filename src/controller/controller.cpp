#include "controller/controller.h"

#include <malloc.h>

#include <algorithm>
#include <set>

#include "common/ids.h"
#include "common/log.h"
#include "common/time_util.h"
#include "controller/controller_metrics.h"
#include "controller/run_state.h"

namespace faultline::controller {

Controller::~Controller() {
  shutdown("controller shutting down");
}

void Controller::shutdown(const std::string& reason) {
  abort_all(reason);
  for (auto& r : snapshot()) r->wait();
}

std::vector<std::shared_ptr<RunEngine>> Controller::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<RunEngine>> runs;
  for (const auto& [_, r] : runs_) runs.push_back(r);
  return runs;
}

Result<Plan> Controller::plan(const experiments::Experiment& experiment,
                              std::optional<uint32_t> seed) const {
  std::vector<InjectorInfo> injectors;
  auto links = registry_.all();
  for (const auto& link : links) {
    if (link->connected()) injectors.push_back(link->info());
  }
  // Container and pod targets are chosen among what every node has now.
  ContainerInventory containers = list_container_targets(experiment, links);
  return make_plan(experiment, injectors, seed, &containers);
}

Status Controller::start_otlp(const std::string& listen) {
  auto receiver = std::make_unique<OtlpReceiver>(traces_);
  if (Status s = receiver->start(listen); !s) return s;
  otlp_ = std::move(receiver);
  return Ok{};
}

Result<std::shared_ptr<RunEngine>> Controller::submit(experiments::Experiment experiment,
                                                      const SubmitOptions& options) {
  // First, so the refusal says why whatever else is wrong; checked again below under mu_.
  if (halt_.halted()) return make_error(ErrorCode::kFailedPrecondition, halt_.refusal());
  auto plan_result = plan(experiment, options.seed);
  if (!plan_result.ok()) return plan_result.error();
  std::string sli = first_trace_sli(experiment);
  if (!sli.empty() && !otlp_)
    return make_error(ErrorCode::kFailedPrecondition,
                      sli +
                          " reads trace spans, but this controller has no OTLP receiver "
                          "(start it with --otlp-listen)");

  std::string id = new_id("r");
  std::string name = experiment.metadata.name;
  auto claims = claims_of(experiment, *plan_result);
  // Checked and taken under one lock: two submissions racing for a scope cannot both win.
  std::unique_lock lock(mu_);
  // Under mu_: halt() pulls the switch before it lists the runs to abort, so a run either is
  // refused here or is in that list.
  if (halt_.halted()) return make_error(ErrorCode::kFailedPrecondition, halt_.refusal());
  auto holder = claims_.conflict(claims);
  if (holder && !options.queue)
    return make_error(ErrorCode::kFailedPrecondition,
                      "experiment \"" + name + "\" conflicts with " + describe(*holder) +
                          "; wait for it to end, abort it, or submit with --queue");
  auto run = std::make_shared<RunEngine>(id, std::move(experiment), std::move(*plan_result),
                                         registry_, settings_, &traces_);
  run->set_destinations(options.destinations);
  if (options.max_events > 0) run->set_journal_limit(options.max_events);
  run->set_command_nodes(options.command_nodes);
  // A scheduled experiment submits forever: finished runs beyond the newest few are joined
  // (their threads are done with on_finished) and dropped; the store keeps them.
  while (finished_.size() > kKeepFinished) {
    auto old = runs_.find(finished_.front());
    finished_.pop_front();
    if (old == runs_.end()) continue;
    old->second->wait();
    runs_.erase(old);
  }
  runs_[id] = run;
  if (holder) {
    // Queued: takes its claims the moment nothing it needs is held any more.
    run->queue_until(
        [this, id, name, claims] {
          std::lock_guard l(mu_);
          if (claims_.conflict(claims)) return false;
          claims_.hold(id, name, claims);
          return true;
        },
        describe(*holder));
  } else {
    claims_.hold(id, name, claims);
  }
  lock.unlock();
  spdlog::info("run submitted run={} experiment={} by={} queued={}", id, name, options.submitted_by,
               holder.has_value());
  if (store_) {
    v1::Run begun;
    begun.set_run_id(id);
    begun.set_experiment_name(name);
    begun.set_state(v1::RUN_STATE_PENDING);
    begun.mutable_summary()->set_started_unix_ms(unix_millis_now());
    if (Status s = store_->begin(begun, options.submitted_by); !s) {
      // A run the store cannot hold would run unrecorded: none of it is started.
      spdlog::error("run refused: not stored run={} error=\"{}\"", id, s.error().message);
      claims_.release(id);
      std::lock_guard l(mu_);
      runs_.erase(id);
      return make_error(ErrorCode::kUnavailable,
                        "the controller's store could not record the run (" + s.error().message +
                            "); nothing was started");
    }
  }
  // A fault's events from all its nodes come as one batch: one store transaction and one
  // audit sync for the lot, not one per node (that was ~3 ms a node on a real disk).
  // The run calls this itself, so it outlives every call: a plain pointer, not a cycle.
  run->on_events([this, self = run.get()](const std::vector<pb::RunEvent>& events) {
    if (store_)
      if (Status s = store_->append_events(events); !s) {
        spdlog::error("events not stored run={} first_seq={} count={} error=\"{}\"",
                      events.front().run_id(), events.front().seq(), events.size(),
                      s.error().message);
        // A run whose journal cannot be kept is ended (its faults reverted) rather than left
        // going with nobody able to see it afterwards; abort() is a no-op once asked.
        self->abort("the controller's store could not record the run's events (" +
                    s.error().message + ")");
      }
    if (!audit_) return;
    std::vector<AuditEntry> entries;
    for (const auto& ev : events) {
      if (!ev.has_fault()) continue;
      const char* action = ev.type() == pb::EVENT_TYPE_FAULT_APPLIED    ? "fault.applied"
                           : ev.type() == pb::EVENT_TYPE_FAULT_REVERTED ? "fault.reverted"
                           : ev.type() == pb::EVENT_TYPE_FAULT_FAILED   ? "fault.failed"
                                                                        : nullptr;
      if (!action) continue;
      const auto& f = ev.fault();
      entries.push_back(
          {"controller", "", action, f.fault_id(), f.node(),
           f.error().empty() ? "ok" : "error: " + f.error(),
           "run " + ev.run_id() + " fault \"" + f.fault_name() + "\" kind " + f.kind()});
    }
    if (!entries.empty()) (void)audit_->append_all(entries);
  });
  // Saved on the run's thread before wait() returns, so a finished run is always stored.
  run->on_finished([this](const RunEngine& r) {
    controller_metrics().runs_total.with({verdict_label(r.state())}).inc();
    controller_metrics().runs_active.dec();
    claims_.release(r.id());
    if (store_)
      if (Status s = store_->save(r.record()); !s) {
        spdlog::error("run journal not saved run={} error=\"{}\" retry=every 500 ms", r.id(),
                      s.error().message);
        std::lock_guard unsaved_lock(orphans_mu_);
        unsaved_.push_back(r.id());
      }
    std::lock_guard finished_lock(mu_);
    finished_.push_back(r.id());
  });
  // Confirmed reverted (and audited) once the node's injector is back, like a restart's.
  run->on_fault_lost([this, id](const std::string& fault_id, const std::string& node,
                                const std::string& fault_name) {
    std::lock_guard orphans_lock(orphans_mu_);
    orphans_[fault_id] = {id, node, fault_name, "node disconnected mid-run"};
  });
  controller_metrics().runs_active.inc();
  run->start();
  return run;
}

size_t Controller::recover_interrupted(const std::function<bool(const v1::Run&)>& still_running) {
  if (!store_) return 0;
  auto runs = store_->unfinished();
  if (still_running)
    runs.erase(std::remove_if(runs.begin(), runs.end(), still_running), runs.end());
  for (auto& run : runs) {
    // Faults applied and never reverted, by id, from the run's own journal.
    std::map<std::string, Orphan> open;
    for (const auto& ev : run.events()) {
      if (!ev.has_fault()) continue;
      if (ev.type() == pb::EVENT_TYPE_FAULT_APPLIED)
        open[ev.fault().fault_id()] = {run.run_id(), ev.fault().node(), ev.fault().fault_name()};
      else if (ev.type() == pb::EVENT_TYPE_FAULT_REVERTED)
        open.erase(ev.fault().fault_id());
    }
    std::string reason = "controller restart";
    if (!open.empty())
      reason += ": " + std::to_string(open.size()) +
                " fault(s) were applied; their injectors' leases revert them and the controller "
                "confirms each";
    uint64_t seq = run.events_size() ? run.events(run.events_size() - 1).seq() : 0;
    int64_t started = run.events_size() ? run.events(0).unix_ms() : run.summary().started_unix_ms();
    pb::RunEvent ev;
    ev.set_run_id(run.run_id());
    ev.set_seq(seq + 1);
    ev.set_unix_ms(unix_millis_now());
    ev.set_type(pb::EVENT_TYPE_RUN_FINISHED);
    ev.set_state(pb::RUN_STATE_ABORTED);
    ev.set_message(reason);
    auto* sum = ev.mutable_summary();
    sum->set_verdict(pb::RUN_STATE_ABORTED);
    sum->set_reason(reason);
    sum->set_time_to_recover_ms(-1);
    sum->set_abort_to_reverted_ms(-1);
    sum->set_started_unix_ms(started);
    sum->set_ended_unix_ms(unix_millis_now());
    // As far as the journal saw it, on the last controller's monotonic clock: how long the
    // controller was down is not part of the run.
    if (run.events_size())
      sum->set_duration_ms(std::max<int64_t>(1, run.events(run.events_size() - 1).elapsed_ms()));
    sum->set_exit_code(exit_code_for(pb::RUN_STATE_ABORTED));
    sum->set_experiment_name(run.experiment_name());
    *run.add_events() = ev;
    *run.mutable_summary() = *sum;
    run.set_state(pb::RUN_STATE_ABORTED);
    if (Status s = store_->save(run); !s)
      spdlog::error("interrupted run not marked run={} error=\"{}\"", run.run_id(),
                    s.error().message);
    spdlog::warn("run interrupted by a controller restart marked ABORTED run={} open_faults={}",
                 run.run_id(), open.size());
    if (audit_)
      (void)audit_->append({"controller", "", "run.aborted", run.run_id(), "local", "ok", reason});
    std::lock_guard lock(orphans_mu_);
    orphans_.insert(open.begin(), open.end());
  }
  return runs.size();
}

size_t Controller::confirm_orphans() {
  std::map<std::string, Orphan> todo;
  {
    std::lock_guard lock(orphans_mu_);
    todo = orphans_;
  }
  for (const auto& [fault_id, o] : todo) {
    auto link = registry_.find(o.node);
    if (!link || !link->connected()) continue;
    // Idempotent on the injector: a fault its lease already took back answers ok too.
    auto r = link->revert(fault_id);
    if (!r) continue;
    spdlog::info("orphaned fault confirmed reverted run={} fault_id={} node={} cause=\"{}\"",
                 o.run_id, fault_id, o.node, o.cause);
    if (audit_)
      (void)audit_->append(
          {"controller", "", "fault.confirmed_reverted", fault_id, o.node, "ok",
           "run " + o.run_id + " fault \"" + o.fault_name + "\" (" + o.cause + ")"});
    std::lock_guard lock(orphans_mu_);
    orphans_.erase(fault_id);
  }
  std::lock_guard lock(orphans_mu_);
  return orphans_.size();
}

size_t Controller::save_unsaved() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(orphans_mu_);
    ids.swap(unsaved_);
  }
  std::vector<std::string> still;
  for (const auto& id : ids) {
    auto run = find(id);
    if (!run) continue;  // dropped from memory: the next start marks it from the store
    if (Status s = store_->save(run->record()); !s) {
      still.push_back(id);
      continue;
    }
    spdlog::info("run journal saved after an earlier failure run={}", id);
  }
  std::lock_guard lock(orphans_mu_);
  unsaved_.insert(unsaved_.end(), still.begin(), still.end());
  return unsaved_.size();
}

size_t Controller::release_finished() {
  if (!store_) return 0;
  std::vector<std::shared_ptr<RunEngine>> done;
  {
    std::lock_guard lock(mu_);
    // Read under mu_: a run is marked unsaved before it is listed finished.
    std::set<std::string> unsaved;
    {
      std::lock_guard unsaved_lock(orphans_mu_);
      unsaved.insert(unsaved_.begin(), unsaved_.end());
    }
    for (auto it = finished_.begin(); it != finished_.end();) {
      if (unsaved.count(*it)) {
        ++it;
        continue;
      }
      if (auto run = runs_.find(*it); run != runs_.end()) {
        done.push_back(run->second);
        runs_.erase(run);
      }
      it = finished_.erase(it);
    }
  }
  // Joined and destroyed outside the lock (watchers may still hold one for a moment).
  for (auto& run : done) run->wait();
  size_t n = done.size();
  done.clear();
  if (n > 0) malloc_trim(0);
  return n;
}

std::shared_ptr<RunEngine> Controller::find(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second;
}

std::optional<v1::Run> Controller::run_page(const std::string& run_id, uint64_t after_seq,
                                            size_t max_events) const {
  if (auto run = find(run_id)) return run->record_page(after_seq, max_events);
  if (!store_) return std::nullopt;
  return store_->load_page(run_id, after_seq, max_events);
}

namespace {

// What a listing carries of a run: enough for a table, nothing that grows with the run.
v1::Run listed(v1::Run run) {
  run.clear_events();
  auto* s = run.mutable_summary();
  s->clear_series();
  s->clear_steady_state_probes();
  s->clear_guardrails();
  s->clear_recovery_checks();
  return run;
}

}  // namespace

std::vector<v1::Run> Controller::list_runs(size_t limit, const RunCursor* after,
                                           std::optional<RunCursor>* next) const {
  std::vector<v1::Run> out;
  std::set<std::string> live;
  for (const auto& r : snapshot()) {
    v1::Run rec = r->record_page(0, 1);
    if (!rec.has_summary()) {  // still going: what the listing needs
      rec.mutable_summary()->set_experiment_name(rec.experiment_name());
      if (rec.events_size() > 0)
        rec.mutable_summary()->set_started_unix_ms(rec.events(0).unix_ms());
    }
    live.insert(rec.run_id());
    if (after && !after->precedes(rec)) continue;
    out.push_back(listed(std::move(rec)));
  }
  // One more than asked, to know whether another page follows.
  if (store_)
    for (auto& r : store_->list(limit + 1, after))
      if (!live.count(r.run_id())) out.push_back(listed(std::move(r)));
  std::sort(out.begin(), out.end(), started_later);
  if (out.size() > limit) {
    out.resize(limit);
    if (next && !out.empty()) *next = RunCursor::of(out.back());
  }
  return out;
}

void Controller::abort_all(const std::string& reason) {
  for (auto& r : snapshot()) r->abort(reason);
}

HaltOutcome Controller::halt(const std::string& by, const std::string& reason) {
  const auto t0 = std::chrono::steady_clock::now();
  HaltOutcome out;
  // What the fleet holds now, before the runs revert theirs: each one no run confirms reverted
  // below is reverted by the sweep, whoever owns it (a revert of a fault gone answers ok).
  std::vector<std::pair<std::shared_ptr<InjectorLink>, std::string>> held;
  for (const auto& link : registry_.all())
    if (link->connected())
      for (const auto& id : link->active_faults()) held.emplace_back(link, id);
  if (Status s = halt_.pull(by, reason, unix_millis_now()); !s) out.not_kept = s.error().message;
  out.state = halt_.state();
  spdlog::warn("fleet halted by={} reason=\"{}\" kept={}", by, reason, out.not_kept.empty());
  const std::string why = "fleet halted by " + by + ": " + reason;
  auto runs = snapshot();
  for (auto& r : runs)
    if (r->abort(why)) ++out.runs_aborted;
  // Faults a run confirmed reverted as it ended need no second revert.
  std::set<std::string> confirmed;
  for (auto& r : runs) {
    r->wait();
    for (const auto& ev : r->journal().events())
      if (ev.type() == pb::EVENT_TYPE_FAULT_REVERTED && ev.has_fault())
        confirmed.insert(ev.fault().fault_id());
  }
  // The rest (faults no run here owns any more) sent to every node at once, then collected:
  // the halt takes as long as the slowest node.
  std::set<std::string> nodes;
  std::vector<std::pair<std::string, Reply<std::string>>> replies;
  for (auto& [link, id] : held) {
    if (confirmed.count(id)) {
      ++out.faults_reverted;
      nodes.insert(link->info().node_name);
      continue;
    }
    replies.emplace_back(link->info().node_name, link->start_revert(id));
  }
  for (auto& [node, reply] : replies) {
    if (reply.get()) {
      ++out.faults_reverted;
      nodes.insert(node);
    } else {
      ++out.faults_unconfirmed;
    }
  }
  out.nodes.assign(nodes.begin(), nodes.end());
  out.took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  spdlog::warn(
      "fleet halt done runs_aborted={} faults_reverted={} faults_unconfirmed={} took_ms={}",
      out.runs_aborted, out.faults_reverted, out.faults_unconfirmed, out.took.count());
  return out;
}

Result<HaltRecord> Controller::unhalt(const std::string& by) {
  auto lifted = halt_.lift(by, unix_millis_now());
  if (lifted) spdlog::warn("fleet halt lifted by={}", by);
  return lifted;
}

}  // namespace faultline::controller
