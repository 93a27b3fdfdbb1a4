// faultline-injector: the per-node daemon that applies and reverts faults for a controller.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/exit_codes.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/signals.h"
#include "injector/fault_engine.h"
#include "injector/injector_client.h"

using namespace faultline;

int main(int argc, char** argv) {
  CLI::App app{"faultline-injector: applies and reverts faults on this node for a controller"};
  injector::InjectorClientOptions opts;
  opts.node_name = host_name();
  std::vector<std::string> labels;
  std::string log_level = "info";
  bool log_json = false;
  std::string grace = "5s";
  app.add_option("--controller", opts.controller_address, "controller address host:port")
      ->required();
  app.add_option("--node", opts.node_name, "node name (default: hostname)");
  app.add_option("--label", labels, "label k=v (repeatable)");
  app.add_option("--contact-grace", grace,
                 "revert every fault after losing the controller for this long");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_flag("--log-json", log_json, "log one JSON object per line");
  std::string ledger_root = injector::default_ledger_root();
  app.add_option("--ledger", ledger_root,
                 "directory of the crash-safe fault ledger (default $FAULTLINE_STATE_DIR/ledger "
                 "or /var/lib/faultline/ledger)");
  CLI11_PARSE(app, argc, argv);

  for (const auto& l : labels) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "faultline-injector: --label " << l << ": expected key=value\n";
      return kExitInvalidOrInfra;
    }
    opts.labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  auto g = parse_duration(grace);
  if (!g) {
    std::cerr << "faultline-injector: --contact-grace: " << g.error().message << "\n";
    return kExitInvalidOrInfra;
  }
  opts.contact_grace = *g;

  // Signals are routed to one thread before any other thread exists (the engine's lease
  // reaper, gRPC's pollers), or SIGTERM would kill the process without reverting.
  std::mutex mu;
  injector::InjectorClient* running = nullptr;
  bool stop_requested = false;
  ShutdownSignals signals([&](int sig) {
    spdlog::info("shutting down signal={}", sig);
    std::lock_guard lock(mu);
    stop_requested = true;
    if (running) running->stop();
  });
  init_logging(log_level, log_json);
  auto engine_ptr = injector::start_engine(ledger_root);
  injector::FaultEngine& engine = *engine_ptr;
  injector::InjectorClient client(engine, opts);
  {
    std::lock_guard lock(mu);
    running = &client;
    if (stop_requested) client.stop();
  }
  spdlog::info("injector starting node={} capabilities={}", opts.node_name,
               fmt::format("{}", fmt::join(engine.capabilities(), ",")));
  client.run();
  {
    std::lock_guard lock(mu);
    running = nullptr;
  }
  size_t n = engine.revert_all("injector shutting down");
  spdlog::info("injector stopped reverted={}", n);
  return kExitPassed;
}
