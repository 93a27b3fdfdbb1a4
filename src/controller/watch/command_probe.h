#pragma once

#include <functional>
#include <map>
#include <memory>

#include "common/command_runner.h"
#include "controller/link/injector_link.h"
#include "controller/watch/probe.h"

namespace faultline::controller {

// Where a command probe's, check's or rollback's program runs: here (the controller, or the
// CLI of an embedded run), or on the injector node the controller policy places it on
// (commands[].node), whose injector runs it if its own policy lists it.
struct CommandPlacement {
  std::map<std::string, std::string> nodes;  // program path -> node; absent: here
  std::function<std::shared_ptr<InjectorLink>(const std::string& node)> link_of;
};

// Runs `argv` where `placement` (may be null: here) says; `where` becomes "" or " on node N".
Result<CommandOutcome> run_placed_command(const CommandPlacement* placement,
                                          const std::vector<std::string>& argv, Duration timeout,
                                          std::string& where);

// Runs a program (Boost.Process, no shell) and checks its exit code and output.
class CommandProbe : public Probe {
 public:
  CommandProbe(std::string name, experiments::CommandProbeSpec spec, Duration timeout,
               std::shared_ptr<const CommandPlacement> placement = nullptr);
  const std::string& name() const override { return name_; }
  ProbeOutcome run() override;

 private:
  std::string name_;
  experiments::CommandProbeSpec spec_;
  Duration timeout_;
  std::shared_ptr<const CommandPlacement> placement_;
};

}  // namespace faultline::controller
