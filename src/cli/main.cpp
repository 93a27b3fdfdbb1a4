// faultline: the command people and CI pipelines use.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/injectors_command.h"
#include "cli/run_command.h"
#include "common/exit_codes.h"
#include "common/log.h"
#include "experiments/loader.h"

using namespace faultline;

namespace {

int validate(const std::vector<std::string>& files) {
  int problems = 0;
  for (const auto& f : files) {
    auto loaded = experiments::load_experiment_file(f);
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    problems += static_cast<int>(loaded.diagnostics.size());
    if (loaded.ok())
      std::printf("%s: ok (%s)\n", f.c_str(), loaded.experiment->metadata.name.c_str());
  }
  return problems == 0 ? kExitPassed : kExitInvalidOrInfra;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"faultline: chaos experiments with auto-abort and nothing left behind"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (logs go to stderr)");
  app.set_version_flag("--version", FAULTLINE_VERSION);

  cli::RunOptions run_opts;
  auto* run = app.add_subcommand("run", "run an experiment and print what happened");
  run->add_option("file", run_opts.file, "experiment YAML file")->required();
  run->add_option("--controller", run_opts.controller,
                  "submit to a running faultline-controller (host:port) instead of running "
                  "embedded");

  std::vector<std::string> validate_files;
  auto* val = app.add_subcommand("validate", "check experiment files without running them");
  val->add_option("files", validate_files, "experiment YAML files")->required();

  std::string injectors_controller;
  auto* inj = app.add_subcommand("injectors", "list the injectors connected to a controller");
  inj->add_option("--controller", injectors_controller, "controller address host:port")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faultline: %s (see faultline --help)\n", e.what());
    return kExitInvalidOrInfra;
  }
  init_logging(log_level);

  if (*run)
    return run_opts.controller.empty() ? cli::run_embedded(run_opts) : cli::run_remote(run_opts);
  if (*val) return validate(validate_files);
  if (*inj) return cli::list_injectors(injectors_controller);
  return kExitInvalidOrInfra;
}
