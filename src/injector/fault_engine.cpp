#include "injector/fault_engine.h"

#include "common/log.h"
#include "injector/backend_registry.h"
#include "injector/claims/claim_keys.h"
#include "injector/containers/container_pinning.h"
#include "injector/injector_metrics.h"

namespace faultline::injector {

std::vector<std::unique_ptr<FaultBackend>> default_backends() {
  return make_registered_backends();
}

Result<std::unique_ptr<FaultEngine>> start_engine(const std::string& ledger_root) {
  auto ledger = FaultLedger::open(ledger_root);
  if (!ledger)
    return make_error(ErrorCode::kFailedPrecondition,
                      "cannot open the fault ledger at " + ledger_root + " (" +
                          ledger.error().message +
                          "): nothing is applied without it, because a fault it cannot record "
                          "could not be taken back after a crash (make the directory writable, "
                          "or set FAULTLINE_STATE_DIR or --ledger to one that is)");
  auto owned = std::make_unique<FaultLedger>(std::move(*ledger));
  auto engine = std::make_unique<FaultEngine>(default_backends(), std::move(owned));
  // In the ledger's root: every embedded run and injector that keeps its ledger there (the
  // default for both) sees the others' claims, and injectors with a ledger of their own (one
  // per simulated node on one machine) do not. Like the ledger, required.
  auto claims = NodeClaims::open(ledger_root + "/claims");
  if (!claims)
    return make_error(ErrorCode::kFailedPrecondition,
                      claims.error().message +
                          ": nothing is applied without it, because two runs could then fault "
                          "the same thing at once (set FAULTLINE_STATE_DIR or --ledger to a "
                          "directory you own)");
  engine->set_claims(std::move(*claims));
  if (size_t n = engine->recover_orphans(ledger_root); n > 0)
    spdlog::warn("crash recovery reverted={} ledger={}", n, ledger_root);
  return engine;
}

FaultEngine::FaultEngine(std::vector<std::unique_ptr<FaultBackend>> backends,
                         std::unique_ptr<FaultLedger> ledger)
    : backends_(std::move(backends)), ledger_(std::move(ledger)) {
  reaper_ = std::thread([this] { reap_expired_leases(); });
}

FaultEngine::~FaultEngine() {
  revert_all("injector shutting down");
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  reaper_.join();
  if (ledger_) ledger_->close();
}

std::vector<std::string> FaultEngine::capabilities() const {
  std::vector<std::string> caps;
  for (const auto& b : backends_)
    if (b->available()) {
      caps.push_back(b->kind());
      for (const auto& mechanism : b->backends()) caps.push_back(b->kind() + ":" + mechanism);
    }
  return caps;
}

FaultBackend* FaultEngine::backend_named(const std::string& kind) const {
  for (const auto& b : backends_)
    if (b->kind() == kind) return b.get();
  return nullptr;
}

FaultBackend* FaultEngine::backend_for(const pb::FaultSpec& spec) const {
  std::string kind = fault_kind_name(spec);
  for (const auto& b : backends_)
    if (b->kind() == kind && b->available()) return b.get();
  return nullptr;
}

void FaultEngine::set_container_runtimes(std::shared_ptr<ContainerRuntimes> runtimes) {
  std::lock_guard lock(mu_);
  runtimes_ = std::move(runtimes);
}

std::shared_ptr<ContainerRuntimes> FaultEngine::container_runtimes() {
  std::lock_guard lock(mu_);
  if (!runtimes_) runtimes_ = ContainerRuntimes::shared();
  return runtimes_;
}

void FaultEngine::set_policy(std::shared_ptr<const InjectorPolicy> policy) {
  std::lock_guard lock(mu_);
  policy_ = std::move(policy);
}

Result<pb::AppliedState> FaultEngine::apply(const std::string& fault_id,
                                            const pb::FaultSpec& requested, Duration lease,
                                            Duration max_duration, const std::string& run_id) {
  MonoTime started = MonoClock::now();
  std::string kind_label = fault_kind_name(requested);
  if (kind_label.empty()) kind_label = "none";
  // Counted once on whichever of the ways out below is not a success.
  struct FailureCount {
    metrics::Counter& failures;
    bool ok = false;
    ~FailureCount() {
      if (!ok) failures.inc();
    }
  } failure{injector_metrics().fault_errors_total.with({"apply", kind_label})};
  std::shared_ptr<const InjectorPolicy> policy;
  {
    std::lock_guard lock(mu_);
    policy = policy_;
  }
  // Container and pod selectors become the namespace and cgroups they name on this node now,
  // so the policy judges, the ledger records and revert uses what was really touched.
  pb::FaultSpec pinned_spec = requested;
  std::vector<pb::TouchedContainer> containers;
  if (names_containers(requested)) {
    auto pinned = pin_containers(pinned_spec, *container_runtimes());
    if (!pinned) {
      spdlog::warn("fault target not resolved fault_id={} kind={} error=\"{}\"", fault_id,
                   kind_label, pinned.error().message);
      return pinned.error();
    }
    containers = std::move(*pinned);
  }
  const pb::FaultSpec& spec = pinned_spec;  // from here on, only the pinned form
  // First of all: a forbidden fault leaves no trace, not even a ledger intent.
  if (policy) {
    if (Status s = policy->check(spec, containers); !s) {
      spdlog::warn("fault refused by policy fault_id={} kind={} policy={} error=\"{}\"", fault_id,
                   fault_kind_name(spec), policy->source(), s.error().message);
      return s.error();
    }
  }
  FaultBackend* backend = backend_for(spec);
  if (backend == nullptr) {
    std::string kind = fault_kind_name(spec);
    return make_error(ErrorCode::kFailedPrecondition, kind.empty()
                                                          ? "fault spec names no kind"
                                                          : "this injector cannot apply " + kind);
  }
  if (lease <= Duration::zero()) lease = kDefaultLease;
  if (max_duration <= Duration::zero()) max_duration = kDefaultMaxDuration;
  bool capped = policy && policy->cap(max_duration) < max_duration;
  if (capped) max_duration = policy->cap(max_duration);
  {
    std::lock_guard lock(mu_);
    if (held_.count(fault_id))
      return make_error(ErrorCode::kFailedPrecondition,
                        "fault " + fault_id + " is already applied");
  }
  // Another run on this machine (another process, or another controller's run here) holding
  // what this fault touches: refused before anything is touched.
  if (claims_) {
    const BackendRegistration* reg = find_backend_registration(kind_label);
    std::vector<std::string> keys =
        reg && reg->reach ? claim_keys(kind_label, reg->reach(spec)) : std::vector<std::string>{};
    if (Status s = claims_->take(fault_id, run_id, kind_label, keys); !s) {
      spdlog::warn("fault refused: scope held fault_id={} kind={} run={} error=\"{}\"", fault_id,
                   kind_label, run_id, s.error().message);
      return s.error();
    }
  }
  // Recorded before anything is touched: a crash from here on is cleaned up on restart.
  if (ledger_) {
    if (Status s = ledger_->record_intent(fault_id, spec); !s) {
      if (claims_) claims_->release(fault_id);
      return make_error(ErrorCode::kInternal,
                        "not applied: cannot record the fault in the ledger: " + s.error().message);
    }
  }
  // Applied outside the lock: a slow backend must not stall reverts of other faults.
  auto applied = backend->apply(fault_id, spec);
  if (!applied) {
    spdlog::warn("fault apply failed fault_id={} kind={} error=\"{}\"", fault_id, backend->kind(),
                 applied.error().message);
    if (ledger_) (void)ledger_->forget(fault_id);
    if (claims_) claims_->release(fault_id);
    return applied.error();
  }
  applied->fault_id = fault_id;
  if (!containers.empty()) {
    std::string where;
    for (const auto& c : containers) {
      *applied->state.add_containers() = c;
      where += (where.empty() ? "" : ", ") + describe_touched(c);
    }
    applied->state.set_summary(applied->state.summary() + " (in " + where + ")");
  }
  // Told in the ack, so the run's journal shows why the fault ends earlier than planned.
  if (capped)
    applied->state.set_summary(applied->state.summary() +
                               " (this injector's policy ends it within " +
                               format_duration(max_duration) + ")");
  pb::AppliedState state = applied->state;
  if (ledger_) {
    if (Status s = ledger_->record_applied(fault_id, spec, state); !s) {
      // Not acknowledged unless recorded: take it back at once.
      (void)backend->revert(*applied);
      (void)ledger_->forget(fault_id);
      return make_error(
          ErrorCode::kInternal,
          "reverted: cannot record the applied fault in the ledger: " + s.error().message);
    }
  }
  {
    std::lock_guard lock(mu_);
    // Counted from the ack, like the lease: the controller's clock is not ours.
    MonoTime now = MonoClock::now();
    MonoTime hard = now + max_duration;
    held_[fault_id] =
        Held{std::move(*applied), backend, std::min(now + lease, hard), hard, max_duration};
    ended_.erase(fault_id);
    // Under the lock that made it held, so a racing revert's decrement always comes after.
    injector_metrics().faults_active.with({kind_label}).inc();
  }
  cv_.notify_all();
  failure.ok = true;
  injector_metrics().fault_apply_seconds.with({kind_label}).observe(MonoClock::now() - started);
  spdlog::info("fault applied fault_id={} kind={} lease={} max_duration={} summary=\"{}\"",
               fault_id, backend->kind(), format_duration(lease), format_duration(max_duration),
               state.summary());
  return state;
}

Result<std::string> FaultEngine::revert_held(const std::string& fault_id, Held held,
                                             const std::string& why) {
  std::string achieved = held.backend->achieved(held.fault);
  MonoTime started = MonoClock::now();
  Status s = held.backend->revert(held.fault);
  if (s && ledger_) (void)ledger_->forget(fault_id);
  // Only once it is really gone: a fault that failed to revert still holds its scope.
  if (s && claims_) claims_->release(fault_id);
  if (s)
    injector_metrics()
        .fault_revert_seconds.with({held.backend->kind()})
        .observe(MonoClock::now() - started);
  else
    injector_metrics().fault_errors_total.with({"revert", held.backend->kind()}).inc();
  if (!s) {
    spdlog::error("fault revert FAILED fault_id={} kind={} error=\"{}\"", fault_id,
                  held.backend->kind(), s.error().message);
    return s.error();
  }
  spdlog::info("fault reverted fault_id={} kind={} why=\"{}\" achieved=\"{}\"", fault_id,
               held.backend->kind(), why, achieved);
  return achieved;
}

Result<std::string> FaultEngine::revert(const std::string& fault_id) {
  std::optional<Held> held;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(fault_id);
    if (it == held_.end()) return std::string();
    held = std::move(it->second);
    held_.erase(it);
  }
  auto s = revert_held(fault_id, *held, "requested");
  if (!s) {
    // Keep it so a retry (or the lease reaper) can try again.
    std::lock_guard lock(mu_);
    held_.emplace(fault_id, std::move(*held));
  } else {
    injector_metrics().faults_active.with({held->backend->kind()}).dec();
  }
  return s;
}

Status FaultEngine::renew(const std::string& fault_id, Duration lease) {
  std::lock_guard lock(mu_);
  auto it = held_.find(fault_id);
  if (it == held_.end()) {
    auto ended = ended_.find(fault_id);
    return make_error(
        ErrorCode::kNotFound,
        "fault " + fault_id + " is not held" +
            (ended != ended_.end() ? ": the injector reverted it (" + ended->second + ")"
                                   : " (lease expired?)"));
  }
  Held& h = it->second;
  MonoTime now = MonoClock::now();
  if (now >= h.hard_deadline) {
    // The reaper is about to revert it; a renewal must not look like it bought time.
    cv_.notify_all();
    return make_error(ErrorCode::kFailedPrecondition,
                      "fault " + fault_id + " reached its hard maximum of " +
                          format_duration(h.max_duration) + "; renewals cannot extend it");
  }
  h.lease_deadline =
      std::min(now + (lease > Duration::zero() ? lease : kDefaultLease), h.hard_deadline);
  return Ok{};
}

void FaultEngine::note_ended(const std::string& fault_id, std::string why) {
  // Enough to answer the renewals in flight when a fault ends; older ones are forgotten.
  constexpr size_t kRemembered = 1024;
  if (ended_.insert_or_assign(fault_id, std::move(why)).second) ended_order_.push_back(fault_id);
  while (ended_order_.size() > kRemembered) {
    ended_.erase(ended_order_.front());
    ended_order_.pop_front();
  }
}

size_t FaultEngine::revert_all(const std::string& why) {
  std::map<std::string, Held> all;
  {
    std::lock_guard lock(mu_);
    all.swap(held_);
  }
  for (auto& [id, held] : all) {
    (void)revert_held(id, held, why);
    // Not held any more even if the revert failed: nothing here will try it again.
    injector_metrics().faults_active.with({held.backend->kind()}).dec();
  }
  return all.size();
}

size_t FaultEngine::recover_orphans(const std::string& root) {
  size_t recovered = 0;
  for (const auto& orphan : FaultLedger::orphans(root)) {
    const auto& e = orphan.entry;
    std::string kind = fault_kind_name(e.spec());
    FaultBackend* backend = backend_named(kind);
    if (!backend) {
      spdlog::error("ledger holds a {} fault this build cannot revert fault_id={} path={}", kind,
                    e.fault_id(), orphan.path);
      continue;
    }
    Status s = e.applied() ? backend->revert({e.fault_id(), e.spec(), e.state()})
                           : backend->recover_intent(e.fault_id(), e.spec());
    if (!s) {
      spdlog::error("crash recovery FAILED fault_id={} kind={} error=\"{}\" path={}", e.fault_id(),
                    kind, s.error().message, orphan.path);
      continue;
    }
    spdlog::warn(
        "crash recovery: reverted a fault left by a previous injector fault_id={} "
        "kind={} was=\"{}\"",
        e.fault_id(), kind, e.applied() ? e.state().summary() : "being applied");
    FaultLedger::remove_orphan(orphan);
    injector_metrics().ledger_recoveries_total.inc();
    {
      std::lock_guard lock(mu_);
      recovered_ids_.push_back(e.fault_id());
    }
    ++recovered;
  }
  return recovered;
}

std::vector<std::string> FaultEngine::active_fault_ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, _] : held_) ids.push_back(id);
  return ids;
}

void FaultEngine::reap_expired_leases() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    MonoTime next = MonoClock::now() + std::chrono::seconds(1);
    for (const auto& [_, h] : held_) next = std::min(next, h.lease_deadline);
    cv_.wait_until(lock, next);
    if (stopping_) break;
    MonoTime now = MonoClock::now();
    struct Expired {
      std::string id;
      Held held;
      std::string reason;
      bool hard;
    };
    std::vector<Expired> expired;
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->second.lease_deadline <= now) {
        // The lease never runs past the hard deadline, so reaching it means the hard maximum.
        bool hard = it->second.hard_deadline <= now;
        std::string reason = hard ? "hard maximum reached" : "lease expired";
        note_ended(it->first,
                   hard ? "hard maximum of " + format_duration(it->second.max_duration) + " reached"
                        : "lease expired");
        expired.push_back({it->first, std::move(it->second), reason, hard});
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    for (auto& e : expired) {
      spdlog::warn("fault ended by the injector fault_id={} kind={} reason=\"{}\" max_duration={}",
                   e.id, e.held.backend->kind(), e.reason, format_duration(e.held.max_duration));
      (void)revert_held(e.id, e.held, e.reason);
      InjectorMetrics& m = injector_metrics();
      m.faults_active.with({e.held.backend->kind()}).dec();
      m.lease_expiries_total.with({e.hard ? kExpiryHardMaximum : kExpiryLease}).inc();
    }
    lock.lock();
  }
}

}  // namespace faultline::injector
