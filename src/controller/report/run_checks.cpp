#include "controller/report/run_checks.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "controller/run_state.h"

namespace faultline::controller {
namespace {

using Status = CheckOutcome::Status;

// The last result of each probe in one phase, by name.
std::map<std::string, const v1::ProbeResult*> last_results(const v1::Run& run,
                                                           v1::ProbePhase phase) {
  std::map<std::string, const v1::ProbeResult*> out;
  for (const auto& ev : run.events())
    if (ev.type() == v1::EVENT_TYPE_PROBE_RESULT && ev.probe().phase() == phase)
      out[ev.probe().name()] = &ev.probe();
  return out;
}

void probe_phase(const v1::Run& run, v1::ProbePhase phase, const std::string& group,
                 const google::protobuf::RepeatedPtrField<std::string>& declared,
                 const std::string& why_skipped, std::vector<CheckOutcome>& out) {
  auto results = last_results(run, phase);
  for (const auto& name : declared) {
    CheckOutcome c{group, name};
    auto it = results.find(name);
    if (it == results.end()) {
      c.status = Status::kSkipped;
      c.message = why_skipped;
    } else {
      c.status = it->second->ok() ? Status::kPassed : Status::kFailed;
      c.message = it->second->observed();
    }
    out.push_back(std::move(c));
  }
}

}  // namespace

const char* state_name_of(v1::RunState state) {
  return state_name(state);
}

std::vector<CheckOutcome> run_checks(const v1::Run& run) {
  const auto& sum = run.summary();
  std::vector<CheckOutcome> out;
  CheckOutcome verdict{"verdict", "run " + run.run_id()};
  verdict.status = sum.verdict() == v1::RUN_STATE_PASSED ? Status::kPassed : Status::kFailed;
  verdict.message = std::string(state_name(sum.verdict())) + ": " + sum.reason();
  verdict.seconds = run_duration_ms(sum) / 1000.0;
  out.push_back(verdict);

  bool injected = false;
  for (const auto& ev : run.events())
    injected = injected ||
               (ev.type() == v1::EVENT_TYPE_STATE_CHANGED && ev.state() == v1::RUN_STATE_INJECTING);
  probe_phase(run, v1::PROBE_PHASE_STEADY_STATE_BEFORE, "steady state before",
              sum.steady_state_probes(), "the run ended before it was checked", out);

  // One check per fault on each node, in the order they were applied.
  std::map<std::string, size_t> row;  // fault_id -> index in out
  std::map<std::string, int64_t> applied_at;
  for (const auto& ev : run.events()) {
    if (!ev.has_fault() || ev.fault().fault_id().empty()) continue;
    const auto& f = ev.fault();
    auto [it, fresh] = row.emplace(f.fault_id(), out.size());
    if (fresh)
      out.push_back({"fault", fmt::format("{} ({}) on {}", f.fault_name(), f.kind(), f.node())});
    CheckOutcome& c = out[it->second];
    if (ev.type() == v1::EVENT_TYPE_FAULT_APPLIED) {
      applied_at[f.fault_id()] = ev.unix_ms();
      c.message = f.state().summary();
    } else if (ev.type() == v1::EVENT_TYPE_FAULT_REVERTED) {
      c.seconds = (ev.unix_ms() - applied_at[f.fault_id()]) / 1000.0;
      if (!f.achieved().empty()) c.message += " (achieved: " + f.achieved() + ")";
    } else if (ev.type() == v1::EVENT_TYPE_FAULT_FAILED) {
      c.status = Status::kFailed;
      c.message = f.error();
    }
  }

  auto guard_results = last_results(run, v1::PROBE_PHASE_GUARDRAIL);
  for (const auto& name : sum.guardrails()) {
    CheckOutcome c{"guardrail", name};
    const v1::RunEvent* breach = nullptr;
    for (const auto& ev : run.events())
      if (ev.type() == v1::EVENT_TYPE_GUARDRAIL_BREACHED && ev.guardrail().name() == name)
        breach = &ev;
    if (breach) {
      c.status = Status::kFailed;
      c.message = fmt::format("breached: {} (held {} ms)", breach->guardrail().observed(),
                              breach->guardrail().held_ms());
    } else if (auto it = guard_results.find(name); it != guard_results.end()) {
      c.message = "held: " + it->second->observed();
    } else {
      c.status = Status::kSkipped;
      c.message = injected ? "never evaluated" : "no fault was active";
    }
    out.push_back(std::move(c));
  }

  std::map<std::string, const v1::ProbeResult*> recovered;
  for (const auto& ev : run.events())
    if (ev.type() == v1::EVENT_TYPE_PROBE_RESULT &&
        ev.probe().phase() == v1::PROBE_PHASE_RECOVERY && ev.probe().recovered_after_ms() >= 0)
      recovered[ev.probe().name()] = &ev.probe();
  auto recovery_results = last_results(run, v1::PROBE_PHASE_RECOVERY);
  for (const auto& name : sum.recovery_checks()) {
    CheckOutcome c{"recovery", name};
    if (auto r = recovered.find(name); r != recovered.end()) {
      c.seconds = r->second->recovered_after_ms() / 1000.0;
      c.message = fmt::format("recovered {} ms after the faults: {}",
                              r->second->recovered_after_ms(), r->second->observed());
    } else if (auto it = recovery_results.find(name); it != recovery_results.end()) {
      c.status = Status::kFailed;
      c.message = fmt::format("not recovered within {} ms: {}", sum.recovery_deadline_ms(),
                              it->second->observed());
    } else {
      c.status = Status::kSkipped;
      c.message = "the run ended before recovery";
    }
    out.push_back(std::move(c));
  }

  probe_phase(run, v1::PROBE_PHASE_STEADY_STATE_AFTER, "steady state after",
              sum.steady_state_probes(), "the run ended before it was checked again", out);
  return out;
}

}  // namespace faultline::controller
