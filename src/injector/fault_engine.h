// Holds the faults this injector has applied, each under a lease, and takes them back:
// on request, when a lease runs out, or all at once on shutdown.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/duration.h"
#include "common/time_util.h"
#include "injector/claims/node_claims.h"
#include "injector/containers/container_runtimes.h"
#include "injector/fault_backend.h"
#include "injector/fault_kind_name.h"
#include "injector/ledger/fault_ledger.h"
#include "injector/policy/injector_policy.h"

namespace faultline::injector {

class FaultEngine {
 public:
  static constexpr Duration kDefaultLease = std::chrono::seconds(30);
  // The hard maximum when the controller names none: renewals never keep a fault longer, so
  // a controller renewing by mistake (or a stuck run) cannot hold a fault forever.
  static constexpr Duration kDefaultMaxDuration = std::chrono::hours(1);

  // With a ledger, every fault is recorded before it is applied and before it is
  // acknowledged, and forgotten once reverted (see fault_ledger.h).
  explicit FaultEngine(std::vector<std::unique_ptr<FaultBackend>> backends,
                       std::unique_ptr<FaultLedger> ledger = nullptr);
  // Reverts every fault still held: an engine never leaves a fault behind.
  ~FaultEngine();
  FaultEngine(const FaultEngine&) = delete;
  FaultEngine& operator=(const FaultEngine&) = delete;

  // Kinds whose backend works on this host.
  std::vector<std::string> capabilities() const;

  // The container runtimes container and pod selectors are resolved through (default: the
  // process-wide set configured from the environment, on first use).
  void set_container_runtimes(std::shared_ptr<ContainerRuntimes> runtimes);
  std::shared_ptr<ContainerRuntimes> container_runtimes();

  // What this injector may ever do. Without one, only the built-in guard rails apply.
  void set_policy(std::shared_ptr<const InjectorPolicy> policy);
  std::shared_ptr<const InjectorPolicy> policy() const {
    std::lock_guard lock(mu_);
    return policy_;
  }

  // A fault id that is already held is refused: overwriting would lose the first revert.
  // A fault the policy forbids is refused (kPermissionDenied) before anything is touched or
  // written to the ledger. `max_duration` is the hard maximum from now that no renewal
  // extends (0 = kDefaultMaxDuration); the policy's max_duration caps it.
  // Container and pod selectors in `spec` are resolved first (containers/container_pinning.h);
  // the state lists what they resolved to.
  // `run_id` owns the fault's claims on this node (see claims/node_claims.h): faults of one
  // run share a scope, another run's are refused while it holds it.
  Result<pb::AppliedState> apply(const std::string& fault_id, const pb::FaultSpec& spec,
                                 Duration lease, Duration max_duration = Duration::zero(),
                                 const std::string& run_id = "");
  // Scopes held machine-wide (start_engine sets them; without, only this engine's own faults
  // are known to it).
  void set_claims(std::unique_ptr<NodeClaims> claims) { claims_ = std::move(claims); }
  // Idempotent: an unknown id (already reverted, or lease expired) succeeds. On success, what
  // the fault achieved over its lifetime (see FaultBackend::achieved), or "".
  Result<std::string> revert(const std::string& fault_id);
  // Extends the lease, never past the fault's hard maximum. A fault the injector already
  // ended by itself is an error saying why (lease expired, hard maximum reached).
  Status renew(const std::string& fault_id, Duration lease);
  // Reverts everything; returns how many faults were held.
  size_t revert_all(const std::string& why);

  std::vector<std::string> active_fault_ids() const;
  // Fault ids recover_orphans() took back, for the injector to report when it registers.
  std::vector<std::string> recovered_fault_ids() const {
    std::lock_guard lock(mu_);
    return recovered_ids_;
  }

  // Reverts what crashed owners left in the ledger under `root`; returns how many faults
  // were taken back. Entries that cannot be reverted stay for the next attempt.
  size_t recover_orphans(const std::string& root);

 private:
  struct Held {
    AppliedFault fault;
    FaultBackend* backend;
    MonoTime lease_deadline;  // never after hard_deadline
    MonoTime hard_deadline;
    Duration max_duration;
  };

  FaultBackend* backend_for(const pb::FaultSpec& spec) const;
  Result<std::string> revert_held(const std::string& fault_id, Held held, const std::string& why);
  void reap_expired_leases();
  // Remembers why the injector ended a fault by itself, for a late renewal's error.
  void note_ended(const std::string& fault_id, std::string why);

  FaultBackend* backend_named(const std::string& kind) const;

  std::vector<std::unique_ptr<FaultBackend>> backends_;
  std::unique_ptr<FaultLedger> ledger_;
  std::unique_ptr<NodeClaims> claims_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Held> held_;
  std::vector<std::string> recovered_ids_;
  std::shared_ptr<const InjectorPolicy> policy_;
  std::shared_ptr<ContainerRuntimes> runtimes_;
  std::map<std::string, std::string> ended_;  // fault id -> why; bounded by ended_order_
  std::deque<std::string> ended_order_;
  bool stopping_ = false;
  std::thread reaper_;
};

// One of each backend registered in this build (backend_registry.h), guarded against
// touching this process.
std::vector<std::unique_ptr<FaultBackend>> default_backends();

// The engine an injector (daemon or embedded) runs: the default backends, a ledger under
// `ledger_root`, and whatever crashed injectors left there taken back first. Fails closed: a
// fault the ledger cannot record could not be taken back after a crash, so without a writable
// ledger no engine is started (the error says where and why).
Result<std::unique_ptr<FaultEngine>> start_engine(const std::string& ledger_root);

}  // namespace faultline::injector
