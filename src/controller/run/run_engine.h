// Runs one experiment's plan through the state machine of DESIGN.md:
//   PENDING -> STEADY_STATE_CHECK -> INJECTING -> RECOVERING -> PASSED | FAILED | ABORTED | ERROR
// Every transition, probe result, guardrail breach and fault action goes to the journal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/link/injector_registry.h"
#include "controller/plan/planner.h"
#include "controller/run/run_journal.h"
#include "controller/run_state.h"
#include "controller/watch/probe_factory.h"
#include "controller/watch/traces/fault_span_exporter.h"
#include "experiments/model.h"

namespace faultline::controller {

struct RunSettings {
  // Lease granted with each fault; the injector reverts by itself if not renewed in time.
  Duration lease = std::chrono::seconds(10);
  Duration renew_interval = std::chrono::seconds(3);
  // host:port of an OTLP/gRPC receiver that gets each fault's window as a span; "" = none.
  std::string otlp_export;
};

class RunEngine {
 public:
  RunEngine(std::string run_id, experiments::Experiment experiment, Plan plan,
            InjectorRegistry& registry, RunSettings settings = {}, SliStore* traces = nullptr);
  // Aborts (if still running) and waits: destroying a run never leaves a fault applied.
  ~RunEngine();
  RunEngine(const RunEngine&) = delete;
  RunEngine& operator=(const RunEngine&) = delete;

  // Called on the run's thread once it has ended (before wait() returns); set before start().
  void on_finished(std::function<void(const RunEngine&)> f) { on_finished_ = std::move(f); }
  // Called for every journal event as it happens, the events of one fan-out (a fault on
  // every node) together; set before start().
  void on_events(std::function<void(const std::vector<pb::RunEvent>&)> f) {
    journal_.set_listener(std::move(f));
  }
  // The run waits (PENDING, journaled as queued behind `behind`) until `ready` says go, or
  // ends ABORTED if aborted meanwhile. Set before start().
  // Called when a node's injector disconnects while one of the run's faults is applied there;
  // its lease reverts it, and whoever owns the store can confirm that when the node returns.
  // Set before start().
  void on_fault_lost(std::function<void(const std::string& fault_id, const std::string& node,
                                        const std::string& fault_name)>
                         f) {
    on_fault_lost_ = std::move(f);
  }
  void queue_until(std::function<bool()> ready, std::string behind) {
    ready_ = std::move(ready);
    queued_behind_ = std::move(behind);
  }
  void start();
  // Every active fault is reverted and the run ends ABORTED. False if the run already ended.
  bool abort(const std::string& reason);
  void wait();

  const std::string& id() const { return run_id_; }
  const experiments::Experiment& experiment() const { return experiment_; }
  const Plan& plan() const { return plan_; }
  const RunJournal& journal() const { return journal_; }
  pb::RunState state() const { return state_; }
  // The run as stored and served: id, state, summary (once ended) and every event.
  pb::Run record() const;

 private:
  struct ActiveFault {
    std::string fault_id;
    const experiments::FaultSpec* spec;
    std::shared_ptr<InjectorLink> link;
    int64_t applied_unix_ns = 0;
    std::string pids;  // the processes it holds, "123,456"
  };

  void execute();
  // Returns the final state and the reason.
  std::pair<pb::RunState, std::string> run_phases(int64_t& ttr_ms);
  void set_state(pb::RunState s);
  void note(const std::string& message);
  void finish(pb::RunState verdict, const std::string& reason, int64_t ttr_ms);
  void journal_probe(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o,
                     int64_t recovered_after_ms = -1);
  // Every probe run, journaled or not, adds a point to its series in the run summary.
  void sample(const std::string& name, pb::ProbePhase phase, const ProbeOutcome& o);
  pb::RunEvent fault_event(const ActiveFault& af) const;

  std::string check_probes(std::vector<std::unique_ptr<Probe>>& probes,
                           const std::vector<experiments::ProbeSpec>& specs, pb::ProbePhase phase);
  ProbeContext probe_context();
  // Waits until `until` unless the run is aborted first; false when aborted.
  bool sleep_until(MonoTime until);
  // Executes the plan's timeline; "" on success, else why it stopped with an error.
  std::string inject();
  // Applies one planned fault on its nodes in parallel; "" on success, else the first error.
  std::string apply(size_t planned_index, std::vector<ActiveFault>& applied);
  std::string revert(std::vector<ActiveFault> faults);
  std::string revert_all_active();
  // A node that could not apply a fault, or dropped out holding one. Returns "" when the
  // fault's on_node_failure says continue (the loss is journaled and reported), else the
  // error that ends the run.
  std::string node_failed(const experiments::FaultSpec& fault, const std::string& node,
                          const std::string& what);
  // Faults whose injector has disconnected are journaled as lost and dropped from the active
  // set; "" unless the policy ends the run.
  std::string drop_disconnected();
  // Reads the renewals that have answered (or timed out) and logs the failures; with
  // `all`, waits for the rest (each bounded by its link's command timeout).
  void collect_renewals(bool all);
  // Sleeps until `until`, renewing leases of active faults; false when aborted meanwhile.
  bool hold_until(MonoTime until);
  // Evaluates abort_when guardrails until injection ends; aborts the run on a breach.
  void watch_guardrails();
  int64_t await_recovery(MonoTime window_end);
  void run_rollbacks(pb::RunState ending);
  bool aborted() const { return abort_requested_; }

  std::string run_id_;
  experiments::Experiment experiment_;
  Plan plan_;
  InjectorRegistry& registry_;
  RunSettings settings_;
  SliStore* traces_;
  std::unique_ptr<PolledTraces> polled_ = std::make_unique<PolledTraces>();
  std::unique_ptr<FaultSpanExporter> fault_spans_;
  std::function<void(const RunEngine&)> on_finished_;
  std::function<void(const std::string&, const std::string&, const std::string&)> on_fault_lost_;
  std::function<bool()> ready_;
  std::string queued_behind_;
  bool never_started_ = false;
  std::mutex series_mu_;
  std::map<std::pair<int, std::string>, pb::ProbeSeries>
      series_;  // by (phase, name)  // set when settings_.otlp_export is
  RunJournal journal_;
  std::atomic<pb::RunState> state_{pb::RUN_STATE_PENDING};

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> abort_requested_{false};
  std::atomic<bool> injecting_{false};
  std::string abort_reason_;
  std::optional<MonoTime> abort_at_;  // when the breach was detected or the abort asked
  int64_t abort_to_reverted_ms_ = -1;
  std::map<size_t, std::vector<ActiveFault>> active_;  // by planned fault index; guarded by mu_
  struct Renewal {
    ActiveFault fault;
    Reply<Ok> reply;
  };
  std::vector<Renewal> renewals_;        // lease renewals sent and not yet read; run thread only
  std::vector<std::string> nodes_lost_;  // "node-3 (fault \"x\")"; guarded by mu_
  std::string node_loss_error_;          // set when a loss ends the run; mu_
  // Processes the faults touched, by target name (for process_restarted); guarded by mu_.
  std::map<std::string, std::set<std::pair<int32_t, uint64_t>>> touched_;
  std::mutex join_mu_;  // wait() may be called from several threads
  std::thread thread_;
};

}  // namespace faultline::controller
