#include "controller/watch/command_probe.h"

#include <regex>

#include "common/command_runner.h"
#include "common/time_util.h"

namespace faultline::controller {

Result<CommandOutcome> run_placed_command(const CommandPlacement* placement,
                                          const std::vector<std::string>& argv, Duration timeout,
                                          std::string& where) {
  where.clear();
  auto it = placement && !argv.empty() ? placement->nodes.find(argv[0])
                                       : std::map<std::string, std::string>::const_iterator{};
  if (!placement || argv.empty() || it == placement->nodes.end()) return run_command(argv, timeout);
  const std::string& node = it->second;
  where = " on node " + node;
  auto link = placement->link_of ? placement->link_of(node) : nullptr;
  if (!link || !link->connected())
    return make_error(ErrorCode::kUnavailable,
                      "node " + node +
                          " (where the controller policy runs this program) has no connected "
                          "injector");
  auto r = link->start_run_command(argv, timeout).get();
  if (!r) return r.error();
  CommandOutcome out;
  out.exit_code = r->exit_code();
  out.timed_out = r->timed_out();
  out.output = r->output();
  return out;
}

CommandProbe::CommandProbe(std::string name, experiments::CommandProbeSpec spec, Duration timeout,
                           std::shared_ptr<const CommandPlacement> placement)
    : name_(std::move(name)),
      spec_(std::move(spec)),
      timeout_(timeout),
      placement_(std::move(placement)) {}

ProbeOutcome CommandProbe::run() {
  auto start = MonoClock::now();
  std::string where;
  auto r = run_placed_command(placement_.get(), spec_.argv, timeout_, where);
  ProbeOutcome out;
  out.latency = MonoClock::now() - start;
  if (!r) {
    out.observed = "could not run" + where + ": " + r.error().message;
    return out;
  }
  if (r->timed_out) {
    out.observed = "timed out after " + format_duration(timeout_) + where;
    return out;
  }
  out.observed = "exit code " + std::to_string(r->exit_code) + where;
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
