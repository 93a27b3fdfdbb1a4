// faultline-injector: the per-node daemon that applies and reverts faults for a controller.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/exit_codes.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics/metrics_server.h"
#include "common/metrics/process_metrics.h"
#include "common/signals.h"
#include "common/transport_security.h"
#include "injector/fault_engine.h"
#include "injector/injector_client.h"
#include "injector/injector_metrics.h"
#include "injector/policy/injector_policy.h"

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
  std::string tls_dir;
  app.add_option("--tls-dir", tls_dir,
                 "directory from scripts/gen-certs.sh: ca.crt and <node>.crt/.key")
      ->envname("FAULTLINE_TLS_DIR");
  app.add_option("--tls-ca", opts.transport.ca_file,
                 "CA certificate the controller's is signed by");
  app.add_option("--tls-cert", opts.transport.cert_file,
                 "this injector's certificate (its CN or a "
                 "DNS SAN must be the node name)");
  app.add_option("--tls-key", opts.transport.key_file, "this injector's private key");
  app.add_option("--tls-server-name", opts.transport.server_name,
                 "name in the controller's certificate, when it differs from the address");
  app.add_flag("--insecure", opts.transport.insecure,
               "plaintext, no authentication of either side (labs only; says so loudly)");
  std::string policy_file;
  app.add_option("--policy", policy_file,
                 "YAML file of what this injector may ever do, whatever a controller asks "
                 "(docs/policy.md); without it only the built-in guard rails apply");
  // Container runtimes: from these flags, else FAULTLINE_CRI_SOCKET / FAULTLINE_DOCKER_SOCKET,
  // else the runtimes' default sockets. Never from an experiment.
  auto runtime_config = injector::ContainerRuntimeConfig::from_environment();
  app.add_option("--cri-socket", runtime_config.cri_socket,
                 "CRI socket for container and pod targets (containerd, CRI-O); \"\" turns it off")
      ->default_str(runtime_config.cri_socket);
  app.add_option("--docker-socket", runtime_config.docker_socket,
                 "Docker Engine API socket for container targets; \"\" turns it off")
      ->default_str(runtime_config.docker_socket);
  std::string metrics_listen;
  app.add_option("--metrics-listen", metrics_listen,
                 "serve Prometheus metrics on http://HOST:PORT/metrics (port 0: any free one); "
                 "off by default");
  CLI11_PARSE(app, argc, argv);
  if (!tls_dir.empty() && opts.transport.cert_file.empty())
    opts.transport.use_dir(tls_dir, opts.node_name);
  if (Status s = check_transport(opts.transport, "faultline-injector"); !s) {
    std::cerr << s.error().message << "\n";
    return kExitInvalidOrInfra;
  }

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
  // Loaded before anything is touched: a bad policy must stop the injector, not widen it.
  std::shared_ptr<const injector::InjectorPolicy> policy;
  if (!policy_file.empty()) {
    auto loaded = injector::InjectorPolicy::load_file(policy_file);
    if (!loaded) {
      std::cerr << "faultline-injector: --policy: " << loaded.error().message << "\n";
      return kExitInvalidOrInfra;
    }
    policy = std::make_shared<const injector::InjectorPolicy>(std::move(*loaded));
  }

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
  // Before the engine starts: its ledger recoveries are counted, and a bad address stops the
  // injector before it touches anything.
  metrics::register_process_metrics(metrics::default_registry(), "injector");
  (void)injector::injector_metrics();  // every metric is listed from the first scrape
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (!metrics_listen.empty()) {
    auto started = metrics::MetricsServer::start(metrics_listen, metrics::default_registry());
    if (!started) {
      std::cerr << "faultline-injector: --metrics-listen: " << started.error().message << "\n";
      return kExitInvalidOrInfra;
    }
    metrics_server = std::move(*started);
    spdlog::info("metrics listening address={} port={} path=/metrics", metrics_listen,
                 metrics_server->port());
  }
  auto started = injector::start_engine(ledger_root);
  if (!started) {
    std::cerr << "faultline-injector: " << started.error().message << "\n";
    return kExitInvalidOrInfra;
  }
  std::unique_ptr<injector::FaultEngine> engine_ptr = std::move(*started);
  injector::FaultEngine& engine = *engine_ptr;
  auto runtimes = std::make_shared<injector::ContainerRuntimes>(runtime_config);
  injector::ContainerRuntimes::set_shared(runtimes);
  engine.set_container_runtimes(runtimes);
  spdlog::info("container runtimes {}", runtimes->describe());
  if (policy) {
    engine.set_policy(policy);
    spdlog::info("injector policy policy={} {}", policy->source(), policy->summary());
  } else {
    spdlog::info("injector policy policy=none (only the built-in guard rails limit faults)");
  }
  if (opts.transport.insecure) warn_plaintext("faultline-injector");
  auto created = injector::InjectorClient::create(engine, opts);
  if (!created) {
    std::cerr << "faultline-injector: " << created.error().message << "\n";
    return kExitInvalidOrInfra;
  }
  injector::InjectorClient& client = **created;
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
