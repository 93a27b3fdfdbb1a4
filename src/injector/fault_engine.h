// Holds the faults this injector has applied, each under a lease, and takes them back:
// on request, when a lease runs out, or all at once on shutdown.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/duration.h"
#include "common/time_util.h"
#include "injector/fault_backend.h"

namespace faultline::injector {

class FaultEngine {
 public:
  static constexpr Duration kDefaultLease = std::chrono::seconds(30);

  explicit FaultEngine(std::vector<std::unique_ptr<FaultBackend>> backends);
  // Reverts every fault still held: an engine never leaves a fault behind.
  ~FaultEngine();
  FaultEngine(const FaultEngine&) = delete;
  FaultEngine& operator=(const FaultEngine&) = delete;

  // Kinds whose backend works on this host.
  std::vector<std::string> capabilities() const;

  // A fault id that is already held is refused: overwriting would lose the first revert.
  Result<pb::AppliedState> apply(const std::string& fault_id, const pb::FaultSpec& spec,
                                 Duration lease);
  // Idempotent: an unknown id (already reverted, or lease expired) succeeds.
  Status revert(const std::string& fault_id);
  Status renew(const std::string& fault_id, Duration lease);
  // Reverts everything; returns how many faults were held.
  size_t revert_all(const std::string& why);

  std::vector<std::string> active_fault_ids() const;

 private:
  struct Held {
    AppliedFault fault;
    FaultBackend* backend;
    MonoTime lease_deadline;
  };

  FaultBackend* backend_for(const pb::FaultSpec& spec) const;
  Status revert_held(const std::string& fault_id, Held held, const std::string& why);
  void reap_expired_leases();

  std::vector<std::unique_ptr<FaultBackend>> backends_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Held> held_;
  bool stopping_ = false;
  std::thread reaper_;
};

// The kind name of a spec ("process_kill"), or "" if none is set.
std::string fault_kind_name(const pb::FaultSpec& spec);

// The backends this build ships, guarded against touching this process.
std::vector<std::unique_ptr<FaultBackend>> default_backends();

}  // namespace faultline::injector
