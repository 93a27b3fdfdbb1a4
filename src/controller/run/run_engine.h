// Runs one experiment's plan through the state machine of DESIGN.md:
//   PENDING -> STEADY_STATE_CHECK -> INJECTING -> RECOVERING -> PASSED | FAILED | ABORTED | ERROR
// Every transition, probe result, guardrail breach and fault action goes to the journal.
// The engine is the state machine; its parts do the work of each phase: the fault fan-out
// (apply, revert, renew, drop lost nodes), the guardrail watch, and the recovery phase.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"
#include "controller/link/injector_registry.h"
#include "controller/plan/planner.h"
#include "controller/run/fault_fan_out.h"
#include "controller/run/run_context.h"
#include "controller/run/run_journal.h"
#include "controller/run_state.h"
#include "controller/watch/probe_factory.h"
#include "experiments/model.h"

namespace faultline::controller {

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
    run_.journal().set_listener(std::move(f));
  }
  // Called when a node's injector disconnects while one of the run's faults is applied there;
  // its lease reverts it, and whoever owns the store can confirm that when the node returns.
  // Set before start().
  void on_fault_lost(FaultFanOut::FaultLost f) { fan_out_.on_fault_lost(std::move(f)); }
  // The run waits (PENDING, journaled as queued behind `behind`) until `ready` says go, or
  // ends ABORTED if aborted meanwhile. Set before start().
  void queue_until(std::function<bool()> ready, std::string behind) {
    ready_ = std::move(ready);
    queued_behind_ = std::move(behind);
  }
  // Where the run's probes may connect (null: anywhere). Set before start().
  // Programs the controller policy runs on an injector node (path -> node); set before start.
  void set_command_nodes(std::map<std::string, std::string> nodes);
  void set_destinations(std::shared_ptr<const DestinationGuard> d) {
    polled_->set_destinations(d);
    destinations_ = std::move(d);
  }
  void start();
  // Every active fault is reverted and the run ends ABORTED. False if the run already ended.
  bool abort(const std::string& reason) { return run_.abort(reason); }
  void wait();

  const std::string& id() const { return run_.run_id(); }
  const experiments::Experiment& experiment() const { return experiment_; }
  const Plan& plan() const { return plan_; }
  const RunJournal& journal() const { return run_.journal(); }
  pb::RunState state() const { return run_.state(); }
  // The run as stored and served: id, state, summary (once ended) and every event.
  pb::Run record() const;
  // The run with at most `max` journal events after `after_seq` (GetRun's pages).
  pb::Run record_page(uint64_t after_seq, size_t max) const;
  // See RunJournal::set_capacity: past `max` events the run aborts, saying why.
  void set_journal_limit(size_t max);

 private:
  struct Verdict {
    pb::RunState state;
    std::string reason;
  };

  void execute();
  // Waits while queued; false when aborted meanwhile.
  bool wait_in_queue();
  Verdict run_phases(int64_t& ttr_ms);
  void set_state(pb::RunState s);
  void finish(pb::RunState verdict, const std::string& reason, int64_t ttr_ms);
  // Runs the probes in turn, each after its initial delay; the error names the first that
  // failed and what it observed. Stops early (Ok) when the run is aborted.
  Status check_probes(std::vector<std::unique_ptr<Probe>>& probes,
                      const std::vector<experiments::ProbeSpec>& specs, pb::ProbePhase phase);
  ProbeContext probe_context();
  // Executes the plan's timeline through the fan-out; the error is why it stopped (a node
  // that failed). Ok when it ran to the end or was aborted.
  Status inject();
  // Journals ALL_REVERTED with the time since the abort was asked.
  void journal_all_reverted();

  experiments::Experiment experiment_;
  Plan plan_;
  InjectorRegistry& registry_;
  SliStore* traces_;
  std::unique_ptr<PolledTraces> polled_ = std::make_unique<PolledTraces>();
  RunContext run_;
  FaultFanOut fan_out_;
  std::function<void(const RunEngine&)> on_finished_;
  std::function<bool()> ready_;
  std::string queued_behind_;
  bool never_started_ = false;
  int64_t abort_to_reverted_ms_ = -1;
  std::mutex join_mu_;  // wait() may be called from several threads
  std::thread thread_;
  std::shared_ptr<const DestinationGuard> destinations_;
  std::shared_ptr<const CommandPlacement> commands_;
};

}  // namespace faultline::controller
