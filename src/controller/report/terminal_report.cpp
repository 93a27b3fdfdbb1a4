#include "controller/report/terminal_report.h"

#include <fmt/format.h>

#include <map>

#include "common/time_util.h"
#include "controller/run_state.h"

namespace faultline::controller {
namespace {

const char* phase_name(pb::ProbePhase p) {
  switch (p) {
    case pb::PROBE_PHASE_STEADY_STATE_BEFORE:
      return "steady state before";
    case pb::PROBE_PHASE_RECOVERY:
      return "recovery";
    case pb::PROBE_PHASE_STEADY_STATE_AFTER:
      return "steady state after";
    case pb::PROBE_PHASE_GUARDRAIL:
      return "guardrail";
    default:
      return "probe";
  }
}

std::string clock_of(int64_t unix_ms) {
  // Just the time of day: the date is in the summary header.
  return format_utc_millis(unix_ms).substr(11);
}

struct ProbeTally {
  int ok = 0;
  int total = 0;
  std::string first_failure;
};

std::string tally_line(const ProbeTally& t) {
  if (t.total == 0) return "not checked";
  std::string s = fmt::format("{}/{} probes ok", t.ok, t.total);
  if (!t.first_failure.empty()) s += " (" + t.first_failure + ")";
  return s;
}

}  // namespace

std::string time_to_recover_text(const pb::RunSummary& sum, bool reached_recovery) {
  if (!reached_recovery) return "not measured (the run ended before recovery)";
  if (sum.time_to_recover_ms() < 0)
    return fmt::format("not recovered (deadline {} ms)", sum.recovery_deadline_ms());
  return fmt::format("{} ms (deadline {} ms)", sum.time_to_recover_ms(),
                     sum.recovery_deadline_ms());
}

std::string format_event_line(const pb::RunEvent& ev) {
  std::string prefix = fmt::format("[+{:.2f}s] ", ev.elapsed_ms() / 1000.0);
  switch (ev.type()) {
    case pb::EVENT_TYPE_STATE_CHANGED:
      return prefix + state_name(ev.state()) + (ev.message().empty() ? "" : ": " + ev.message());
    case pb::EVENT_TYPE_PROBE_RESULT: {
      const auto& p = ev.probe();
      return prefix +
             fmt::format(
                 "probe {} ({}) {}: {} in {:.1f} ms{}", p.name(), phase_name(p.phase()),
                 p.ok() ? "ok" : "FAILED", p.observed(), p.latency_ms(),
                 p.phase() == pb::PROBE_PHASE_RECOVERY && p.recovered_after_ms() >= 0
                     ? fmt::format("; recovered {} ms after the faults", p.recovered_after_ms())
                     : "");
    }
    case pb::EVENT_TYPE_FAULT_APPLIED:
      return prefix + fmt::format("fault {} applied on {}: {}", ev.fault().fault_name(),
                                  ev.fault().node(), ev.fault().state().summary());
    case pb::EVENT_TYPE_FAULT_REVERTED:
      return prefix +
             fmt::format(
                 "fault {} reverted on {}{}", ev.fault().fault_name(), ev.fault().node(),
                 ev.fault().achieved().empty() ? "" : "; achieved: " + ev.fault().achieved());
    case pb::EVENT_TYPE_FAULT_FAILED:
      return prefix + fmt::format("fault {} FAILED on {}: {}", ev.fault().fault_name(),
                                  ev.fault().node(), ev.fault().error());
    case pb::EVENT_TYPE_RECOVERED:
      return prefix + fmt::format("recovered in {} ms", ev.time_to_recover_ms());
    case pb::EVENT_TYPE_NOTE:
      return prefix + ev.message();
    case pb::EVENT_TYPE_GUARDRAIL_BREACHED:
      return prefix + fmt::format("GUARDRAIL {} BREACHED: {} (held {} ms); reverting every fault",
                                  ev.guardrail().name(), ev.guardrail().observed(),
                                  ev.guardrail().held_ms());
    case pb::EVENT_TYPE_ALL_REVERTED:
      return prefix +
             fmt::format("every fault reverted {} ms after the abort", ev.since_abort_ms());
    case pb::EVENT_TYPE_RUN_FINISHED:
      return prefix + fmt::format("run finished: {} ({})", state_name(ev.summary().verdict()),
                                  ev.summary().reason());
    default:
      return prefix + "(unknown event)";
  }
}

std::string format_summary(const std::vector<pb::RunEvent>& events) {
  if (events.empty() || events.back().type() != pb::EVENT_TYPE_RUN_FINISHED)
    return "run has not finished\n";
  const pb::RunSummary& sum = events.back().summary();
  ProbeTally before, after;
  struct FaultRow {
    std::string name, kind, node, what, applied, reverted, error;
  };
  std::vector<FaultRow> faults;
  std::map<std::string, size_t> row_of;  // fault_id -> row
  bool reached_recovery = false;
  std::vector<std::pair<std::string, int64_t>> check_ttr;  // per recovery check, in order
  for (const auto& ev : events) {
    if (ev.type() == pb::EVENT_TYPE_STATE_CHANGED && ev.state() == pb::RUN_STATE_RECOVERING)
      reached_recovery = true;
    if (ev.type() == pb::EVENT_TYPE_PROBE_RESULT) {
      ProbeTally* t = ev.probe().phase() == pb::PROBE_PHASE_STEADY_STATE_BEFORE  ? &before
                      : ev.probe().phase() == pb::PROBE_PHASE_STEADY_STATE_AFTER ? &after
                                                                                 : nullptr;
      if (ev.probe().phase() == pb::PROBE_PHASE_RECOVERY && ev.probe().recovered_after_ms() >= 0)
        check_ttr.emplace_back(ev.probe().name(), ev.probe().recovered_after_ms());
      if (!t) continue;
      ++t->total;
      if (ev.probe().ok())
        ++t->ok;
      else if (t->first_failure.empty())
        t->first_failure = ev.probe().name() + ": " + ev.probe().observed();
      continue;
    }
    if (!ev.has_fault() || ev.fault().fault_id().empty()) continue;
    const auto& f = ev.fault();
    auto [it, fresh] = row_of.emplace(f.fault_id(), faults.size());
    if (fresh) faults.push_back({f.fault_name(), f.kind(), f.node(), "", "", "", ""});
    FaultRow& row = faults[it->second];
    if (ev.type() == pb::EVENT_TYPE_FAULT_APPLIED) {
      row.applied = clock_of(ev.unix_ms());
      row.what = f.state().summary();
    } else if (ev.type() == pb::EVENT_TYPE_FAULT_REVERTED) {
      row.reverted = clock_of(ev.unix_ms());
      if (!f.achieved().empty()) row.what += " (achieved: " + f.achieved() + ")";
    } else if (ev.type() == pb::EVENT_TYPE_FAULT_FAILED) {
      row.error = f.error();
    }
  }

  std::string out;
  auto line = [&](const std::string& key, const std::string& value) {
    out += fmt::format("  {:<21}{}\n", key, value);
  };
  out += "\n" + std::string(72, '=') + "\n";
  line("Experiment", sum.experiment_name() + "   (run " + events.back().run_id() + ")");
  line("Verdict", fmt::format("{}   (exit code {})", state_name(sum.verdict()), sum.exit_code()));
  line("Why", sum.reason());
  line("Started", format_utc_millis(sum.started_unix_ms()));
  line("Duration", fmt::format("{:.2f} s", run_duration_ms(sum) / 1000.0));
  line("Steady state before", tally_line(before));
  if (faults.empty()) line("Faults", "none applied");
  for (size_t i = 0; i < faults.size(); ++i) {
    const auto& f = faults[i];
    line(i == 0 ? "Faults" : "", fmt::format("{} ({}) on {}", f.name, f.kind, f.node));
    if (!f.applied.empty())
      line("", fmt::format("  applied {}  reverted {}", f.applied,
                           f.reverted.empty() ? "-" : f.reverted));
    if (!f.what.empty()) line("", "  " + f.what);
    if (!f.error.empty()) line("", "  error: " + f.error);
  }
  if (sum.recovery_deadline_ms() > 0) {
    line("Time to recover", time_to_recover_text(sum, reached_recovery));
    // With several checks, which one took longest is the interesting part.
    if (check_ttr.size() > 1)
      for (const auto& [name, ms] : check_ttr) line("", fmt::format("  {} {} ms", name, ms));
  }
  line("Steady state after", tally_line(after));
  out += std::string(72, '=') + "\n";
  return out;
}

}  // namespace faultline::controller
