#include "controller/watch/command_probe.h"

#include <regex>

#include "common/command_runner.h"
#include "common/time_util.h"

namespace faultline::controller {

CommandProbe::CommandProbe(std::string name, experiments::CommandProbeSpec spec, Duration timeout)
    : name_(std::move(name)), spec_(std::move(spec)), timeout_(timeout) {}

ProbeOutcome CommandProbe::run() {
  auto start = MonoClock::now();
  auto r = run_command(spec_.argv, timeout_);
  ProbeOutcome out;
  out.latency = MonoClock::now() - start;
  if (!r) {
    out.observed = "could not run: " + r.error().message;
    return out;
  }
  if (r->timed_out) {
    out.observed = "timed out after " + format_duration(timeout_);
    return out;
  }
  out.observed = "exit code " + std::to_string(r->exit_code);
  if (r->exit_code != spec_.expect_exit) {
    out.observed += " (expected " + std::to_string(spec_.expect_exit) + ")";
    return out;
  }
  if (!spec_.output_regex.empty() &&
      !std::regex_search(r->output, std::regex(spec_.output_regex))) {
    out.observed += ", output does not match /" + spec_.output_regex + "/";
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace faultline::controller
