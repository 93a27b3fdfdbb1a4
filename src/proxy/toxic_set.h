// The toxics of one proxy. Every connection's pumps read the current list for each chunk they
// forward, so a toxic added, changed or removed takes effect on connections already open, not
// only on new ones. Readers get an immutable snapshot; writers swap it under a lock. Each
// toxic's counts and lease live here with it, by name: an update keeps them, a removal drops
// them.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "proxy/http_abort.h"
#include "proxy/toxic.h"

namespace faultline::proxy {

// What a toxic did, counted by the pumps as it happens (relaxed atomics: no lock on the data
// path, and no count needs to be ordered with another).
struct ToxicCounts {
  // Connections on which it took effect at least once: for a byte toxic, those that drew it
  // (toxicity) and saw it; for http_abort, those on which it answered a request.
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> requests{0};  // HTTP requests it examined (http_abort only)
  std::atomic<uint64_t> aborted{0};   // requests it answered itself (http_abort only)
};

struct ToxicEntry {
  Toxic toxic;
  std::shared_ptr<ToxicCounts> counts;              // never null; the same across updates
  std::shared_ptr<const HttpAbortRule> http_abort;  // for an http_abort toxic, its rule
  int64_t lease_end_ns = 0;                         // steady clock; 0: no lease
};

class ToxicSet {
 public:
  using Snapshot = std::shared_ptr<const std::vector<ToxicEntry>>;
  struct Counts {
    uint64_t connections = 0, requests = 0, aborted = 0;
  };

  ToxicSet() : current_(std::make_shared<const std::vector<ToxicEntry>>()) {}

  Snapshot current() const;
  // Upstream toxics first, then downstream, each in the order they were added (Toxiproxy's).
  std::vector<Toxic> list() const;
  // kFailedPrecondition when a toxic of that name exists. A lease_ms starts its lease.
  Result<Toxic> add(const Toxic& t);
  // kNotFound when there is none of that name. `lease_ms` in the changes renews the lease
  // from now (0 ends it); without it the lease runs on.
  Result<Toxic> update(const std::string& name, const nlohmann::json& changes);
  Result<Toxic> find(const std::string& name) const;
  Result<Counts> counts(const std::string& name) const;
  Status remove(const std::string& name);
  void clear();
  // Removes the toxics whose lease ended by `now_ns` (steady clock) and says which. One atomic
  // load when none is due, so a timer can call it often.
  std::vector<std::string> expire_leases(int64_t now_ns);
  // The clock leases are measured on (steady), in ns.
  static int64_t clock_ns();

 private:
  // Swaps in `next` and notes its earliest lease end; mu_ held.
  void publish_locked(std::shared_ptr<const std::vector<ToxicEntry>> next);

  mutable std::mutex mu_;
  Snapshot current_;
  std::atomic<int64_t> next_lease_end_ns_{std::numeric_limits<int64_t>::max()};
};

}  // namespace faultline::proxy
