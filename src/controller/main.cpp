// faultline-controller: the long-running controller that injectors dial into and the CLI
// submits experiments to.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <thread>

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "common/audit_log.h"
#include "common/exit_codes.h"
#include "common/log.h"
#include "common/metrics/metrics_server.h"
#include "common/metrics/process_metrics.h"
#include "common/signals.h"
#include "common/time_util.h"
#include "common/transport_security.h"
#include "controller/api/controller_api_service.h"
#include "controller/auth/refusal_throttle.h"
#include "controller/auth/token_authority.h"
#include "controller/controller.h"
#include "controller/controller_metrics.h"
#include "controller/link/injector_link_service.h"
#include "controller/link/injector_roster.h"
#include "controller/policy/controller_policy.h"
#include "controller/schedule/scheduler.h"
#include "controller/store/retention.h"
#include "controller/store/sqlite_store.h"

using namespace faultline;

namespace {

int fail(const std::string& message) {
  std::cerr << "faultline-controller: " << message << "\n";
  return kExitInvalidOrInfra;
}

// Every connected injector holds a socket, so the usual soft limit of 1024 descriptors would
// cap a fleet at about a thousand nodes; the hard limit is what the administrator allows.
void raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
    spdlog::info("open file limit raised from={} to={}", was, rl.rlim_cur);
  else
    spdlog::warn("open file limit not raised limit={} error=\"{}\"", was, std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"faultline-controller: runs experiments on the injectors that connect to it"};
  std::vector<std::string> listen{"127.0.0.1:7070"};
  std::string log_level = "info";
  bool log_json = false;
  app.add_option("--listen", listen,
                 "address for injectors and the CLI (host:port or unix:/path); repeat to listen "
                 "on several");
  std::string otlp_listen = "0.0.0.0:4317";
  auto* otlp_opt = app.add_option(
      "--otlp-listen", otlp_listen,
      "host:port of the OTLP/gRPC trace receiver for trace SLIs; \"off\" disables it");
  controller::RunSettings settings;
  app.add_option("--otlp-export", settings.otlp_export,
                 "send each fault's window as a span to this OTLP/gRPC receiver (host:port)");
  std::string lease = "10s", renew = "3s";
  app.add_option("--lease", lease,
                 "lease granted with each fault; an injector not renewed in time reverts it");
  app.add_option("--renew-interval", renew, "how often leases of active faults are renewed");
  TransportSecurity transport;
  std::string tls_dir;
  app.add_option("--tls-dir", tls_dir,
                 "directory from scripts/gen-certs.sh: ca.crt, controller.crt, controller.key")
      ->envname("FAULTLINE_TLS_DIR");
  app.add_option("--tls-ca", transport.ca_file, "CA that client certificates must be signed by");
  app.add_option("--tls-cert", transport.cert_file, "the controller's certificate");
  app.add_option("--tls-key", transport.key_file, "the controller's private key");
  app.add_flag("--insecure", transport.insecure,
               "plaintext and, without --token-file, no API authentication (labs only)");
  std::string token_file;
  app.add_option("--token-file", token_file,
                 "API tokens, one \"token,name,role\" per line (role: viewer|operator|admin)");
  std::string store_path = controller::default_store_path();
  app.add_option("--store", store_path, "SQLite database of runs, injectors and tokens");
  std::string audit_path = default_audit_log_path();
  app.add_option("--audit-log", audit_path, "append-only, hash-chained audit trail");
  std::string refusal_window = "1m";
  app.add_option("--audit-refusal-window", refusal_window,
                 "refused calls from one peer host beyond --audit-refusals-in-full within this "
                 "window are counted in one audit entry instead of one each (flood protection)");
  uint64_t refusals_in_full = 20;
  app.add_option("--audit-refusals-in-full", refusals_in_full,
                 "refusals of one peer host written in full per --audit-refusal-window");
  size_t retain_runs = 0;
  app.add_option("--retain-runs", retain_runs,
                 "keep only the newest N finished runs in the store (0: all)");
  std::string retain_for;
  app.add_option("--retain-for", retain_for,
                 "delete finished runs that ended longer ago than this (e.g. 30d, 12h)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_flag("--log-json", log_json, "log one JSON object per line");
  std::string policy_path;
  app.add_option("--policy", policy_path,
                 "controller policy: which commands, hosts and files submitted experiments may "
                 "use, and size limits (default: no commands, no link-local or metadata hosts)");
  std::string metrics_listen;
  app.add_option("--metrics-listen", metrics_listen,
                 "serve Prometheus metrics on http://HOST:PORT/metrics (port 0: any free one); "
                 "off by default");
  CLI11_PARSE(app, argc, argv);

  if (!tls_dir.empty() && transport.cert_file.empty()) transport.use_dir(tls_dir, "controller");
  if (Status s = check_transport(transport, "faultline-controller"); !s)
    return fail(s.error().message.substr(std::string("faultline-controller: ").size()));
  auto lease_d = parse_duration(lease);
  auto renew_d = parse_duration(renew);
  if (!lease_d) return fail("--lease: " + lease_d.error().message);
  if (!renew_d) return fail("--renew-interval: " + renew_d.error().message);
  if (*renew_d >= *lease_d)
    return fail("--renew-interval " + renew + " must be shorter than --lease " + lease);
  controller::RetentionPolicy retention;
  retention.keep_runs = retain_runs;
  if (!retain_for.empty()) {
    auto age = controller::parse_retention_age(retain_for);
    if (!age) return fail("--retain-for " + age.error().message);
    retention.keep_for_ms = *age;
  }
  auto refusal_window_d = parse_duration(refusal_window);
  if (!refusal_window_d || *refusal_window_d <= Duration::zero())
    return fail("--audit-refusal-window " + refusal_window + ": a duration above 0 such as 1m");
  settings.lease = *lease_d;
  settings.renew_interval = *renew_d;

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  ShutdownSignals signals([&](int sig) {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  });
  init_logging(log_level, log_json);
  // Debian's abseil checks every mutex acquisition for lock-order cycles (a debug aid, on by
  // default in its build); gRPC takes such mutexes for every message on every stream, and the
  // check cost a tenth of the controller's CPU with a thousand injectors heartbeating.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  raise_open_file_limit();
  metrics::register_process_metrics(metrics::default_registry(), "controller");
  (void)controller::controller_metrics();  // every metric is listed from the first scrape
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (!metrics_listen.empty()) {
    auto started = metrics::MetricsServer::start(metrics_listen, metrics::default_registry());
    if (!started) return fail("--metrics-listen: " + started.error().message);
    metrics_server = std::move(*started);
    spdlog::info("metrics listening address={} port={} path=/metrics", metrics_listen,
                 metrics_server->port());
  }

  auto policy = std::make_shared<controller::ControllerPolicy>();
  if (!policy_path.empty()) {
    auto loaded = controller::ControllerPolicy::load_file(policy_path);
    if (!loaded) return fail(loaded.error().message);
    *policy = std::move(*loaded);
    spdlog::info("controller policy loaded path={} commands={} hosts_allow={} hosts_deny={}",
                 policy_path, policy->commands.size(), policy->hosts.allow.size(),
                 policy->hosts.deny.size());
  }

  auto store = controller::SqliteStore::open(store_path);
  if (!store) return fail(store.error().message);
  auto audit = AuditLog::open(audit_path);
  if (!audit) return fail(audit.error().message);
  controller::RefusalThrottle refusals(audit->get(), *refusal_window_d, refusals_in_full);
  controller::TokenAuthority tokens(*store);
  if (!token_file.empty())
    if (Status s = tokens.load_file(token_file); !s) return fail(s.error().message);
  if (tokens.size() == 0) {
    if (!transport.insecure)
      return fail(
          "no API tokens: pass --token-file FILE (lines \"token,name,role\"); only --insecure "
          "runs without authentication");
    tokens.set_open(true);
  }
  if (transport.insecure) warn_plaintext("faultline-controller");

  controller::Controller ctl(settings);
  metrics::CallbackGauge connected_gauge = controller::watch_connected_injectors(ctl.registry());
  ctl.set_store(*store);
  ctl.set_halt_store(store->get());  // read now: a restart stays halted
  ctl.set_audit(audit->get());
  if (size_t n = ctl.recover_interrupted())
    spdlog::warn("runs interrupted by the last controller exit marked ABORTED count={}", n);
  // Retention: at start, and then every few minutes (after recovery, so runs it just marked
  // finished count as finished).
  auto prune = [&] {
    if (!retention.active()) return;
    auto n = (*store)->prune(retention, unix_millis_now());
    if (!n)
      spdlog::error("runs not pruned error=\"{}\"", n.error().message);
    else if (*n > 0)
      spdlog::info("runs pruned by retention count={} retain_runs={} retain_for={}", *n,
                   retention.keep_runs, retain_for.empty() ? "-" : retain_for);
  };
  prune();
  controller::Scheduler scheduler(ctl, *store, audit->get());
  scheduler.set_policy(policy);
  if (auto n = scheduler.start(); !n)
    return fail(n.error().message);
  else if (*n > 0)
    spdlog::info("schedules loaded count={}", *n);
  if (otlp_listen != "off") {
    if (Status s = ctl.start_otlp(otlp_listen); !s) {
      // Asked for explicitly, it must work; the default port may simply be taken by a
      // collector on this host, and runs without trace SLIs still work.
      if (otlp_opt->count() > 0) return fail(s.error().message);
      spdlog::warn("OTLP receiver not started: {}; experiments with trace SLIs will be refused",
                   s.error().message);
    }
  }
  controller::InjectorLinkService link_service(ctl.registry(), std::chrono::seconds(1),
                                               std::chrono::seconds(10));
  // The observer runs on the link service's own thread (it syncs the store and the audit
  // log), never on gRPC's callback threads that every injector's heartbeats share.
  link_service.set_observer(
      [&](const std::string& node, const std::string& peer, const std::string& what) {
        controller::InjectorRecord rec{node, "", "", "", peer, what, unix_millis_now()};
        if (auto link = ctl.registry().find(node); link && what == "registered") {
          rec.labels = controller::join_labels(link->info().labels);
          rec.capabilities = controller::join_list(link->info().capabilities);
          rec.version = link->info().version;
        }
        bool recovered = what.rfind("recovered", 0) == 0;
        if (!recovered)
          if (Status s = (*store)->record_injector(rec); !s)
            spdlog::error("injector state not stored node={} what=\"{}\" error=\"{}\"", node, what,
                          s.error().message);
        bool refused = what.rfind("refused", 0) == 0;
        AuditEntry e{node,
                     "injector",
                     "injector." + what.substr(0, what.find(':')),
                     node,
                     peer,
                     refused ? "denied" + what.substr(7) : "ok",
                     recovered ? "reverted from its ledger at start: " + what.substr(11) : ""};
        // A refused injector retries: counted per peer so it cannot fill the trail.
        if (Status s = refused ? refusals.record(e) : (*audit)->append(e); !s)
          spdlog::error("injector event not audited node={} what=\"{}\" error=\"{}\"", node, what,
                        s.error().message);
      });
  auto verifier = client_verifier(transport);
  if (!verifier) return fail(verifier.error().message);
  link_service.set_verifier(*verifier);
  controller::ControllerApiService api_service(ctl, tokens, audit->get(), *verifier);
  api_service.set_scheduler(&scheduler);
  api_service.set_policy(policy);
  api_service.set_injector_store(store->get());
  api_service.set_refusal_throttle(&refusals);
  auto creds = server_credentials(transport);
  if (!creds) return fail(creds.error().message);
  grpc::ServerBuilder builder;
  // gRPC's 4 MiB, or room for the largest experiment the policy allows: a bigger request is
  // refused before it is read into memory.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::clamp<size_t>(policy->limits.max_bytes + (64 << 10), 4 << 20, INT32_MAX)));
  std::vector<int> ports(listen.size(), 0);  // gRPC fills them in at BuildAndStart
  for (size_t i = 0; i < listen.size(); ++i) builder.AddListeningPort(listen[i], *creds, &ports[i]);
  link_service.configure(builder);
  builder.RegisterService(&link_service);
  builder.RegisterService(&api_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  for (size_t i = 0; i < listen.size(); ++i)
    if (!server || ports[i] == 0) return fail("cannot listen on " + listen[i]);
  for (size_t i = 0; i < listen.size(); ++i)
    spdlog::info("controller listening address={} port={} transport={} auth={} store={} audit={}",
                 listen[i], ports[i], transport.insecure ? "plaintext" : "mtls",
                 tokens.open() ? "off" : "tokens", store_path, audit_path);
  {
    std::unique_lock lock(mu);
    auto next_prune = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    // Faults of runs the last controller left behind: confirmed as their injectors return.
    while (!cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop; })) {
      lock.unlock();
      ctl.confirm_orphans();
      ctl.save_unsaved();
      ctl.release_finished();
      if (Status s = refusals.flush(); !s)
        spdlog::error("refusal counts not audited error=\"{}\"", s.error().message);
      if (std::chrono::steady_clock::now() >= next_prune) {
        prune();
        next_prune = std::chrono::steady_clock::now() + std::chrono::minutes(10);
      }
      lock.lock();
    }
  }
  spdlog::info("controller shutting down");
  // No fire may start a run while the runs are being ended.
  scheduler.stop();
  // Runs revert their faults while injector streams are still up.
  ctl.shutdown("controller shutting down");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (Status s = refusals.flush(true); !s)
    spdlog::error("refusal counts not audited error=\"{}\"", s.error().message);
  return kExitPassed;
}
