#include "cli/gameday_command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/report_commands.h"
#include "common/exit_codes.h"
#include "controller/run_state.h"
#include "experiments/gameday.h"

namespace faultline::cli {

namespace {

// False when the room decided to stop (or nobody can answer: stdin closed).
bool pass_gate(const std::string& gate) {
  std::printf("\nGATE: %s\nPress Enter to start, or type stop to end the day: ", gate.c_str());
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) {
    std::printf("\n(no one at the keyboard: stdin closed; use --yes for a rehearsal)\n");
    return false;
  }
  return answer != "stop";
}

}  // namespace

int run_gameday(const std::string& file, RunOptions options, bool yes, const std::string& junit,
                const std::string& html) {
  auto loaded = experiments::load_gameday_file(file);
  if (!loaded.day) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    return kExitInvalidOrInfra;
  }
  const auto& day = *loaded.day;
  std::printf("Game day: %s (%zu experiments)\n", day.name.c_str(), day.steps.size());
  if (!day.participants.empty()) {
    std::string who;
    for (const auto& p : day.participants) who += (who.empty() ? "" : ", ") + p;
    std::printf("Participants: %s\n", who.c_str());
  }
  if (!day.notes.empty()) std::printf("Notes: %s\n", day.notes.c_str());
  std::printf("Ctrl-C aborts the running experiment, reverts every fault and ends the day.\n");

  int code = kExitPassed;
  std::vector<v1::Run> runs;
  controller::DayInfo info{day.name, day.description, day.notes, day.participants, {}};
  std::string stopped;  // why the day ended early
  for (size_t i = 0; i < day.steps.size(); ++i) {
    const auto& step = day.steps[i];
    if (!stopped.empty()) {
      info.not_run.push_back(step.file + ": " + stopped);
      continue;
    }
    std::printf("\n=== step %zu of %zu: %s\n", i + 1, day.steps.size(), step.file.c_str());
    if (!step.note.empty()) std::printf("Note: %s\n", step.note.c_str());
    if (!step.gate.empty() && !yes && !pass_gate(step.gate)) {
      stopped = "the day was stopped at the gate of step " + std::to_string(i + 1);
      info.not_run.push_back(step.file + ": " + stopped);
      continue;
    }
    RunOptions opts = options;
    opts.file = step.file;
    // The command line's --var wins over the step's vars.
    for (const auto& [k, v] : step.vars) opts.vars.emplace(k, v);
    v1::Run record;
    int c = run_experiment(opts, &record);
    std::fflush(stdout);
    code = std::max(code, c);
    if (record.has_summary()) runs.push_back(record);
    if (interrupted_by_signal(record))
      stopped = "the day was stopped with Ctrl-C during step " + std::to_string(i + 1);
    else if (c == kExitInvalidOrInfra && !record.has_summary())
      stopped = "step " + std::to_string(i + 1) + " could not run";
  }

  std::printf("\n=== Game day %s: %zu of %zu experiments ran\n", day.name.c_str(), runs.size(),
              day.steps.size());
  for (const auto& r : runs)
    std::printf("  %-8s %s (%s)\n", controller::state_name(r.summary().verdict()),
                r.experiment_name().c_str(), r.run_id().c_str());
  for (const auto& n : info.not_run) std::printf("  NOT RUN  %s\n", n.c_str());
  if (!stopped.empty()) code = std::max(code, static_cast<int>(kExitHypothesisFailed));
  if (!runs.empty() && !write_reports(runs, junit, html, "", &info))
    code = std::max(code, static_cast<int>(kExitInvalidOrInfra));
  return code;
}

}  // namespace faultline::cli
