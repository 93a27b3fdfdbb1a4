#include "controller/run/fault_fan_out.h"

#include <algorithm>
#include <future>

#include "common/ids.h"
#include "common/log.h"
#include "common/time_util.h"
#include "controller/run/fault_translation.h"
#include "controller/watch/traces/fault_span_exporter.h"

namespace faultline::controller {

FaultFanOut::FaultFanOut(RunContext& run, const experiments::Experiment& experiment,
                         const Plan& plan, InjectorRegistry& registry, const RunSettings& settings)
    : run_(run), experiment_(experiment), plan_(plan), registry_(registry), settings_(settings) {
  if (!settings_.otlp_export.empty())
    spans_ = std::make_unique<FaultSpanExporter>(settings_.otlp_export);
}

FaultFanOut::~FaultFanOut() = default;

pb::RunEvent FaultFanOut::fault_event(pb::EventType type, const ActiveFault& af) const {
  pb::RunEvent ev = run_.event(type);
  auto* f = ev.mutable_fault();
  f->set_fault_name(af.spec->name);
  f->set_fault_id(af.fault_id);
  f->set_kind(af.spec->kind);
  f->set_node(af.link->info().node_name);
  return ev;
}

Status FaultFanOut::node_failed(const experiments::FaultSpec& fault, const std::string& node,
                                const std::string& what, ErrorCode code) {
  if (experiment_.node_failure_policy(fault) == experiments::NodeFailurePolicy::kAbort)
    return make_error(code, "fault \"" + fault.name + "\" " + what + " on node " + node);
  {
    std::lock_guard lock(mu_);
    nodes_lost_.push_back(node + " (fault \"" + fault.name + "\")");
  }
  run_.note("fault \"" + fault.name + "\" " + what + " on node " + node +
            "; continuing with the other nodes (on_node_failure: continue)");
  return Ok{};
}

Status FaultFanOut::apply(const std::vector<size_t>& planned) {
  // Faults starting together are applied together.
  std::vector<std::future<Status>> calls;
  calls.reserve(planned.size());
  for (size_t p : planned)
    calls.push_back(std::async(std::launch::async, [this, p] { return apply_one(p); }));
  Status first = Ok{};
  for (auto& call : calls) {
    Status s = call.get();
    if (first && !s) first = std::move(s);
  }
  return first;
}

Status FaultFanOut::apply_one(size_t planned_index) {
  const PlannedFault& pf = plan_.faults[planned_index];
  const auto& fault = experiment_.faults[pf.window.fault_index];
  const experiments::TargetSpec& target = *experiment_.find_target(fault.target);
  pb::FaultSpec wire = to_wire(fault, target);
  const TargetPlacement& placement = plan_.targets.at(fault.target);
  // Every node's command is sent first and the answers read after, so nodes apply in
  // parallel and a slow node does not delay the others (nor costs a thread).
  std::vector<std::pair<ActiveFault, Reply<pb::AppliedState>>> calls;
  std::vector<ActiveFault> applied;
  // Journaled together once every node has answered (one store transaction, one audit
  // sync); the failures are acted on after, so their notes follow their events.
  std::vector<pb::RunEvent> events;
  struct Failure {
    std::string node, what;
    ErrorCode code;
  };
  std::vector<Failure> failures;
  for (const auto& node : pf.nodes) {
    auto link = registry_.find(node);
    if (!link || !link->connected()) {
      pb::RunEvent ev = run_.event(pb::EVENT_TYPE_FAULT_FAILED);
      auto* f = ev.mutable_fault();
      f->set_fault_name(fault.name);
      f->set_kind(fault.kind);
      f->set_node(node);
      f->set_error("node is no longer connected");
      events.push_back(std::move(ev));
      failures.push_back(
          {node, "could not be applied: the node is no longer connected", ErrorCode::kUnavailable});
      continue;
    }
    // The planned window plus one lease of slack: if the controller cannot end the fault
    // (stuck, partitioned, renewing by mistake) the injector still ends it by itself.
    Duration max_duration = pf.window.end - pf.window.start + settings_.lease;
    auto chosen = placement.containers.find(node);
    if (chosen == placement.containers.end()) {
      ActiveFault af{new_id("f"), &fault, link, 0, {}};
      auto reply =
          af.link->start_apply(af.fault_id, run_.run_id(), wire, settings_.lease, max_duration);
      calls.emplace_back(std::move(af), std::move(reply));
      continue;
    }
    // One fault per chosen pod or container: each its own namespace, ledger entry and revert.
    for (const auto& c : chosen->second) {
      ActiveFault af{new_id("f"), &fault, link, 0, {}};
      pb::FaultSpec one = to_wire(fault, target, target.container->pod ? c.pod_id() : c.id());
      auto reply =
          af.link->start_apply(af.fault_id, run_.run_id(), one, settings_.lease, max_duration);
      calls.emplace_back(std::move(af), std::move(reply));
    }
  }
  for (auto& [af, reply] : calls) {
    auto result = reply.get();
    if (result) {
      pb::RunEvent ev = fault_event(pb::EVENT_TYPE_FAULT_APPLIED, af);
      *ev.mutable_fault()->mutable_state() = *result;
      af.applied_unix_ns = unix_nanos_now();
      {
        std::lock_guard lock(mu_);
        for (const auto& p : result->processes()) {
          touched_[fault.target].insert({p.pid(), p.start_time_ticks()});
          af.pids += (af.pids.empty() ? "" : ",") + std::to_string(p.pid());
        }
        for (const auto& c : result->containers())
          touched_containers_[fault.target].push_back({af.link->info().node_name, c});
      }
      applied.push_back(af);
      events.push_back(std::move(ev));
    } else {
      pb::RunEvent ev = fault_event(pb::EVENT_TYPE_FAULT_FAILED, af);
      ev.mutable_fault()->set_error(result.error().message);
      events.push_back(std::move(ev));
      failures.push_back(
          {af.link->info().node_name, "failed: " + result.error().message, result.error().code});
    }
  }
  bool none_applied = applied.empty();
  {
    std::lock_guard lock(mu_);
    active_[planned_index] = std::move(applied);
  }
  run_.journal().append_all(std::move(events));
  Status first = Ok{};
  for (const auto& f : failures) {
    Status s = node_failed(fault, f.node, f.what, f.code);
    if (first && !s) first = std::move(s);
  }
  if (first && none_applied && !pf.nodes.empty())
    return make_error(ErrorCode::kUnavailable, "fault \"" + fault.name +
                                                   "\" could not be applied on any of its " +
                                                   std::to_string(pf.nodes.size()) + " node(s)");
  return first;
}

Status FaultFanOut::revert(const std::vector<size_t>& planned) {
  std::vector<ActiveFault> faults;
  {
    std::lock_guard lock(mu_);
    for (size_t p : planned) {
      auto it = active_.find(p);
      if (it == active_.end()) continue;
      faults.insert(faults.end(), it->second.begin(), it->second.end());
      active_.erase(it);
    }
  }
  return revert_faults(std::move(faults));
}

Status FaultFanOut::revert_all_active() {
  std::vector<ActiveFault> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, faults] : active_) all.insert(all.end(), faults.begin(), faults.end());
    active_.clear();
  }
  return revert_faults(std::move(all));
}

Status FaultFanOut::revert_faults(std::vector<ActiveFault> faults) {
  // All sent, then all read, as apply does.
  std::vector<Reply<std::string>> calls;
  calls.reserve(faults.size());
  for (const auto& af : faults) calls.push_back(af.link->start_revert(af.fault_id));
  Status first = Ok{};
  std::vector<pb::RunEvent> events;  // journaled together, as apply does
  for (size_t i = 0; i < faults.size(); ++i) {
    const ActiveFault& af = faults[i];
    auto s = calls[i].get();
    pb::RunEvent ev =
        fault_event(s ? pb::EVENT_TYPE_FAULT_REVERTED : pb::EVENT_TYPE_FAULT_FAILED, af);
    auto* f = ev.mutable_fault();
    if (s) {
      f->set_achieved(*s);
    } else {
      // The injector's lease still reverts it; say so loudly rather than hide it.
      f->set_error("revert failed: " + s.error().message +
                   " (the injector's lease will revert it)");
      if (first) first = make_error(s.error().code, f->error());
    }
    if (spans_)
      spans_->export_window({run_.run_id(), experiment_.metadata.name, af.spec->name, af.spec->kind,
                             af.spec->target, af.link->info().node_name, af.pids, f->achieved(),
                             af.applied_unix_ns, unix_nanos_now(), f->error()});
    events.push_back(std::move(ev));
  }
  run_.journal().append_all(std::move(events));
  return first;
}

Status FaultFanOut::drop_disconnected() {
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
  Status first = Ok{};
  for (const auto& af : lost) {
    const std::string& node = af.link->info().node_name;
    spdlog::warn("injector disconnected mid-run run={} node={} fault_id={}", run_.run_id(), node,
                 af.fault_id);
    af.link->disconnect();  // a silent stream is cut, so the node dials again once it can
    pb::RunEvent ev = fault_event(pb::EVENT_TYPE_FAULT_FAILED, af);
    ev.mutable_fault()->set_error("injector disconnected mid-run; its lease (" +
                                  format_duration(settings_.lease) + ") reverts the fault");
    run_.journal().append(ev);
    if (on_fault_lost_) on_fault_lost_(af.fault_id, node, af.spec->name);
    Status s =
        node_failed(*af.spec, node, "was lost: the injector disconnected", ErrorCode::kUnavailable);
    if (first && !s) first = std::move(s);
  }
  return first;
}

void FaultFanOut::collect_renewals(bool all) {
  std::erase_if(renewals_, [&](Renewal& r) {
    if (!all && !r.reply.ready()) return false;
    Status s = r.reply.get();
    if (!s)
      spdlog::warn("lease renewal failed run={} node={} fault_id={} error=\"{}\"", run_.run_id(),
                   r.fault.link->info().node_name, r.fault.fault_id, s.error().message);
    return true;
  });
}

Result<FaultFanOut::Held> FaultFanOut::hold_until(MonoTime until) {
  // A dropped injector is noticed within this, not only at the next renewal.
  constexpr auto kLinkCheck = std::chrono::milliseconds(250);
  MonoTime next_renew = MonoClock::now() + settings_.renew_interval;
  MonoTime next_check = MonoClock::now() + kLinkCheck;
  while (!run_.aborted() && MonoClock::now() < until) {
    if (!run_.sleep_until(std::min({until, next_renew, next_check}))) break;
    if (MonoClock::now() >= next_check) {
      if (Status s = drop_disconnected(); !s) return s.error();
      next_check = MonoClock::now() + kLinkCheck;
    }
    if (MonoClock::now() >= next_renew) {
      std::vector<ActiveFault> active;
      {
        std::lock_guard lock(mu_);
        for (const auto& [_, faults] : active_)
          active.insert(active.end(), faults.begin(), faults.end());
      }
      // Sent to every node and never waited for here: a node that does not answer
      // (partitioned, frozen) must not hold up the others' renewals until their leases run
      // out, nor the check for lost nodes. The answers are read as they come, below. A
      // silent node is not asked at all.
      for (const auto& af : active)
        if (af.link->connected())
          renewals_.push_back({af, af.link->start_renew(af.fault_id, settings_.lease)});
      next_renew = MonoClock::now() + settings_.renew_interval;
    }
    collect_renewals(false);
  }
  return run_.aborted() ? Held::kAborted : Held::kReached;
}

std::vector<std::string> FaultFanOut::nodes_lost() const {
  std::lock_guard lock(mu_);
  return nodes_lost_;
}

std::vector<TouchedOnNode> FaultFanOut::touched_containers(const std::string& target) const {
  std::lock_guard lock(mu_);
  auto it = touched_containers_.find(target);
  return it == touched_containers_.end() ? std::vector<TouchedOnNode>{} : it->second;
}

std::set<std::pair<int32_t, uint64_t>> FaultFanOut::touched(const std::string& target) const {
  std::lock_guard lock(mu_);
  auto it = touched_.find(target);
  return it == touched_.end() ? std::set<std::pair<int32_t, uint64_t>>{} : it->second;
}

size_t FaultFanOut::active_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [_, faults] : active_) n += faults.size();
  return n;
}

void FaultFanOut::close_spans() {
  spans_.reset();
}

}  // namespace faultline::controller
