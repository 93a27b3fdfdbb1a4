// What the parts of one run share: the journal their events go to, the state those events are
// stamped with, the abort signal that ends every wait of the run, and the probe series of the
// run's summary. The engine, the fault fan-out, the guardrail watch and the recovery phase each
// hold it by reference; it outlives them all.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "common/time_util.h"
#include "controller/run/run_journal.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

struct RunSettings {
  // Lease granted with each fault; the injector reverts by itself if not renewed in time.
  Duration lease = std::chrono::seconds(10);
  Duration renew_interval = std::chrono::seconds(3);
  // host:port of an OTLP/gRPC receiver that gets each fault's window as a span; "" = none.
  std::string otlp_export;
};

class RunContext {
 public:
  explicit RunContext(std::string run_id);

  const std::string& run_id() const { return run_id_; }
  RunJournal& journal() { return journal_; }
  const RunJournal& journal() const { return journal_; }

  // The state every event is stamped with. Journaling a change is the engine's job.
  pb::RunState state() const { return state_; }
  void set_state(pb::RunState s) { state_ = s; }
  // An event of `type` stamped with the current state, to fill and append.
  pb::RunEvent event(pb::EventType type) const;
  void note(const std::string& message);

  // Asks every wait of the run to end; the run then reverts what is active and ends ABORTED.
  // False if the run already ended or an abort was already asked.
  bool abort(const std::string& reason);
  bool aborted() const { return abort_requested_; }
  std::string abort_reason() const;
  // When the abort was asked (or the breach that asked it detected).
  std::optional<MonoTime> abort_at() const;

  // Waits until `until` unless the run is aborted first; false when aborted.
  bool sleep_until(MonoTime until);
  // Waits until `until`, an abort, or `stop()` (read under the lock: change what it reads,
  // then call wake()). True when woken by an abort or `stop`.
  template <typename Stop>
  bool wait_until(MonoTime until, Stop stop) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, until, [&] { return abort_requested_.load() || stop(); });
  }
  void wake();

  // Every probe run, journaled or not, adds a point to its series in the run summary.
  void sample(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o);
  void journal_probe(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o,
                     int64_t recovered_after_ms = -1);
  std::vector<pb::ProbeSeries> series() const;

 private:
  std::string run_id_;
  RunJournal journal_;
  std::atomic<pb::RunState> state_{pb::RUN_STATE_PENDING};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> abort_requested_{false};
  std::string abort_reason_;          // mu_
  std::optional<MonoTime> abort_at_;  // mu_

  mutable std::mutex series_mu_;
  std::map<std::pair<int, std::string>, pb::ProbeSeries> series_;  // by (phase, name)
};

}  // namespace faultline::controller
