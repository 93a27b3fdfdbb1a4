// The controller: owns the runs and the injectors they reach. The same object serves the
// embedded `faultline run` and the long-running faultline-controller daemon.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/audit_log.h"
#include "controller/halt_switch.h"
#include "controller/link/injector_registry.h"
#include "controller/policy/destination_guard.h"
#include "controller/run/run_engine.h"
#include "controller/run/scope_claims.h"
#include "controller/store/run_store.h"
#include "controller/watch/traces/otlp_receiver.h"
#include "controller/watch/traces/sli_store.h"
#include "experiments/model.h"

namespace faultline::controller {

struct SubmitOptions {
  std::optional<uint32_t> seed;
  // When another run holds a target scope: wait for it (true) or refuse (false).
  bool queue = false;
  std::string submitted_by = "local";
  // Where the run's probes may connect (checked and pinned at each connection); null for
  // runs the CLI makes on its own machine, which may reach anything.
  std::shared_ptr<const DestinationGuard> destinations;
  // Journal events kept per run (0: no limit); past it the run aborts and probe results are
  // no longer kept (the controller policy's limits.events_per_run).
  size_t max_events = 0;
  // Programs the controller policy runs on an injector node instead of here (path -> node).
  std::map<std::string, std::string> command_nodes;
};

// What pulling the halt switch did.
struct HaltOutcome {
  HaltRecord state;
  size_t runs_aborted = 0;
  // Faults the injectors reported held when the switch was pulled: confirmed reverted, or not
  // (unreachable, or the revert failed; their leases still end them).
  size_t faults_reverted = 0;
  size_t faults_unconfirmed = 0;
  std::vector<std::string> nodes;  // those whose faults were reverted
  std::chrono::milliseconds took{0};
  std::string not_kept;  // the store's error when the halt was not stored
};

class Controller {
 public:
  explicit Controller(RunSettings settings = {}) : settings_(settings) {}
  // Aborts every run still going and waits for its faults to be reverted.
  ~Controller();

  InjectorRegistry& registry() { return registry_; }
  // Starts the OTLP trace receiver that trace SLIs read (host:port; port 0 picks one).
  Status start_otlp(const std::string& listen);
  int otlp_port() const { return otlp_ ? otlp_->port() : 0; }
  SliStore& traces() { return traces_; }
  const InjectorRegistry& registry() const { return registry_; }

  // Places the experiment on the injectors registered now. Fails (naming the fault, the node
  // and what it can do) when the plan cannot be carried out.
  Result<Plan> plan(const experiments::Experiment& experiment,
                    std::optional<uint32_t> seed = std::nullopt) const;
  // Plans the experiment and starts it on its own thread; returns the run.
  // Refused (kFailedPrecondition, naming the holder) when another run holds one of its
  // target scopes, unless options.queue.
  Result<std::shared_ptr<RunEngine>> submit(experiments::Experiment experiment,
                                            const SubmitOptions& options);
  Result<std::shared_ptr<RunEngine>> submit(experiments::Experiment experiment,
                                            std::optional<uint32_t> seed = std::nullopt) {
    SubmitOptions o;
    o.seed = seed;
    return submit(std::move(experiment), o);
  }
  std::shared_ptr<RunEngine> find(const std::string& run_id) const;
  // Keeps every finished run in `store` from now on.
  void set_store(std::shared_ptr<RunStore> store) { store_ = std::move(store); }
  // Every fault applied/reverted/failed goes here too (null: no audit trail).
  void set_audit(AuditLog* audit) { audit_ = audit; }
  // After a restart: runs the store says were going when the controller died end ABORTED
  // (reason: controller restart), and their faults that were still applied are remembered
  // until their injector confirms them reverted (see confirm_orphans). Returns how many runs.
  // `still_running` (may be empty) spares runs another process is still executing.
  size_t recover_interrupted(const std::function<bool(const v1::Run&)>& still_running = nullptr);
  // Asks each connected injector to revert (idempotently) the faults recover_interrupted()
  // found, and records each confirmation. Returns how many are still unconfirmed.
  size_t confirm_orphans();
  // Saves again the finished runs whose final save failed (a full disk); returns how many
  // are still unsaved. Called with confirm_orphans.
  size_t save_unsaved();
  // Finished runs the store holds are dropped from memory (served from the store from then
  // on) and the heap is handed back to the system, so a large run's memory returns once it
  // ends. Without a store the newest 100 finished runs stay. Returns how many were dropped.
  size_t release_finished();
  // The run (live or stored) with one page of its journal; nullopt when unknown.
  std::optional<v1::Run> run_page(const std::string& run_id, uint64_t after_seq,
                                  size_t max_events) const;
  // Runs going on now and stored ones, newest first, as summaries: no events, probe series or
  // lists of declared checks. After `after` when given; `next` is set when more follow.
  std::vector<v1::Run> list_runs(size_t limit, const RunCursor* after = nullptr,
                                 std::optional<RunCursor>* next = nullptr) const;
  void abort_all(const std::string& reason);

  // The halt switch. halt(): refuses new runs from now on, aborts every run and waits for
  // each to end, then has every connected injector revert each fault it reported holding that
  // no run confirmed reverted (faults no run here owns any more; idempotent). unhalt(): lets
  // runs start again; kFailedPrecondition when not halted.
  HaltOutcome halt(const std::string& by, const std::string& reason);
  Result<HaltRecord> unhalt(const std::string& by);
  HaltRecord halt_state() const { return halt_.state(); }
  // Where the switch is kept (read now: a restart stays halted).
  void set_halt_store(HaltStore* store) { halt_.attach(store); }
  // Aborts every run still going and waits until each has ended.
  void shutdown(const std::string& reason);

 private:
  std::vector<std::shared_ptr<RunEngine>> snapshot() const;

  RunSettings settings_;
  InjectorRegistry registry_;
  SliStore traces_;
  std::unique_ptr<OtlpReceiver> otlp_;
  std::shared_ptr<RunStore> store_;
  AuditLog* audit_ = nullptr;
  ScopeClaims claims_;
  HaltSwitch halt_;
  struct Orphan {
    std::string run_id;
    std::string node;
    std::string fault_name;
    std::string cause = "controller restart";  // why nobody reverted it: for the audit trail
  };
  std::mutex orphans_mu_;
  std::map<std::string, Orphan> orphans_;  // by fault id
  std::vector<std::string> unsaved_;       // finished runs the store refused; under orphans_mu_
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<RunEngine>> runs_;
  // Finished runs, oldest first: without a store the newest kKeepFinished stay in memory;
  // with one, release_finished() drops each once it is saved.
  std::deque<std::string> finished_;  // guarded by mu_
  static constexpr size_t kKeepFinished = 100;
};

}  // namespace faultline::controller
