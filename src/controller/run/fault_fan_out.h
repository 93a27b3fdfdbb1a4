// The fan-out: a run's faults sent to every node they were planned on, and what it holds
// there. Applies and reverts go to all nodes at once and their acks are read after; active
// faults' leases are renewed while the run holds them; a node whose injector disconnected is
// dropped with its faults. A node that fails is an error that ends the run, or a loss the run
// goes on without, as the fault's on_node_failure says.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "controller/link/injector_registry.h"
#include "controller/plan/planner.h"
#include "controller/run/run_context.h"
#include "controller/watch/container_restarted_probe.h"
#include "experiments/model.h"

namespace faultline::controller {

class FaultSpanExporter;

// A fault applied on one node and not yet reverted.
struct ActiveFault {
  std::string fault_id;
  const experiments::FaultSpec* spec;
  std::shared_ptr<InjectorLink> link;
  int64_t applied_unix_ns = 0;
  std::string pids;  // the processes it holds, "123,456"
};

class FaultFanOut {
 public:
  using FaultLost = std::function<void(const std::string& fault_id, const std::string& node,
                                       const std::string& fault_name)>;
  // How a hold ended when no node loss ended the run.
  enum class Held { kReached, kAborted };

  // `experiment` and `plan` must outlive the fan-out. With settings.otlp_export, each fault's
  // window is exported as a span when it is reverted.
  FaultFanOut(RunContext& run, const experiments::Experiment& experiment, const Plan& plan,
              InjectorRegistry& registry, const RunSettings& settings);
  ~FaultFanOut();
  FaultFanOut(const FaultFanOut&) = delete;
  FaultFanOut& operator=(const FaultFanOut&) = delete;

  // Called when a node's injector disconnects while one of the faults is applied there; its
  // lease reverts it. Set before the first apply.
  void on_fault_lost(FaultLost f) { on_fault_lost_ = std::move(f); }

  // Applies the planned faults (indexes into plan.faults) on their nodes, every fault and
  // every node at once; what applied becomes active. The error is the first that ends the run.
  Status apply(const std::vector<size_t>& planned);
  // Reverts the active faults of the planned ones, together. A revert that fails is journaled
  // and left to its lease; the others still go. The error is the first failure.
  Status revert(const std::vector<size_t>& planned);
  Status revert_all_active();

  // Sleeps until `until` (or an abort), renewing the leases of active faults and dropping
  // nodes whose injector disconnected. The error is a node loss that ends the run.
  Result<Held> hold_until(MonoTime until);
  // Faults whose injector has disconnected are journaled as lost and dropped from the active
  // set; the error is a loss that ends the run.
  Status drop_disconnected();
  // Reads the renewals that have answered (or timed out) and logs the failures; with `all`,
  // waits for the rest (each bounded by its link's command timeout).
  void collect_renewals(bool all);

  // The nodes the run went on without: "node-3 (fault \"x\")".
  std::vector<std::string> nodes_lost() const;
  // The processes the faults on `target` touched: (pid, start time ticks).
  std::set<std::pair<int32_t, uint64_t>> touched(const std::string& target) const;
  // The containers and pods the faults on `target` hit, each with its node.
  std::vector<TouchedOnNode> touched_containers(const std::string& target) const;
  size_t active_count() const;
  // Sends the fault spans still queued and stops exporting; call once no revert is to come.
  void close_spans();

 private:
  Status apply_one(size_t planned_index);
  Status revert_faults(std::vector<ActiveFault> faults);
  // A node that could not apply a fault, or dropped out holding one. Ok when the fault's
  // on_node_failure says continue (the loss is journaled and reported), else the error that
  // ends the run.
  Status node_failed(const experiments::FaultSpec& fault, const std::string& node,
                     const std::string& what, ErrorCode code);
  pb::RunEvent fault_event(pb::EventType type, const ActiveFault& af) const;

  RunContext& run_;
  const experiments::Experiment& experiment_;
  const Plan& plan_;
  InjectorRegistry& registry_;
  RunSettings settings_;
  std::unique_ptr<FaultSpanExporter> spans_;
  FaultLost on_fault_lost_;

  mutable std::mutex mu_;
  std::map<size_t, std::vector<ActiveFault>> active_;  // by planned fault index; mu_
  std::vector<std::string> nodes_lost_;                // mu_
  // Processes the faults touched, by target name (for process_restarted); mu_.
  std::map<std::string, std::set<std::pair<int32_t, uint64_t>>> touched_;
  std::map<std::string, std::vector<TouchedOnNode>> touched_containers_;  // mu_
  struct Renewal {
    ActiveFault fault;
    Reply<Ok> reply;
  };
  std::vector<Renewal> renewals_;  // sent and not yet read; the holding thread's only
};

}  // namespace faultline::controller
