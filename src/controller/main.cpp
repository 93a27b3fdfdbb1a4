// faultline-controller: the long-running controller that injectors dial into and the CLI
// submits experiments to.
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <iostream>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "common/audit_log.h"
#include "common/exit_codes.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/time_util.h"
#include "common/transport_security.h"
#include "controller/api/controller_api_service.h"
#include "controller/auth/token_authority.h"
#include "controller/controller.h"
#include "controller/link/injector_link_service.h"
#include "controller/store/sqlite_store.h"

using namespace faultline;

namespace {

int fail(const std::string& message) {
  std::cerr << "faultline-controller: " << message << "\n";
  return kExitInvalidOrInfra;
}

std::string joined(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"faultline-controller: runs experiments on the injectors that connect to it"};
  std::string listen = "127.0.0.1:7070";
  std::string log_level = "info";
  bool log_json = false;
  app.add_option("--listen", listen, "address for injectors and the CLI (host:port)");
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
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_flag("--log-json", log_json, "log one JSON object per line");
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

  auto store = controller::SqliteStore::open(store_path);
  if (!store) return fail(store.error().message);
  auto audit = AuditLog::open(audit_path);
  if (!audit) return fail(audit.error().message);
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
  ctl.set_store(*store);
  ctl.set_audit(audit->get());
  if (size_t n = ctl.recover_interrupted())
    spdlog::warn("runs interrupted by the last controller exit marked ABORTED count={}", n);
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
  link_service.set_observer(
      [&](const std::string& node, const std::string& peer, const std::string& what) {
        controller::InjectorRecord rec{node, "", "", "", peer, what, unix_millis_now()};
        if (auto link = ctl.registry().find(node); link && what == "registered") {
          rec.labels = joined(link->info().labels);
          for (const auto& c : link->info().capabilities)
            rec.capabilities += (rec.capabilities.empty() ? "" : ",") + c;
          rec.version = link->info().version;
        }
        bool recovered = what.rfind("recovered", 0) == 0;
        if (!recovered) (void)(*store)->record_injector(rec);
        std::string outcome = what.rfind("refused", 0) == 0 ? "denied" + what.substr(7) : "ok";
        (void)(*audit)->append(
            {node, "injector", "injector." + what.substr(0, what.find(':')), node, peer, outcome,
             recovered ? "reverted from its ledger at start: " + what.substr(11) : ""});
      });
  auto verifier = client_verifier(transport);
  if (!verifier) return fail(verifier.error().message);
  link_service.set_verifier(*verifier);
  controller::ControllerApiService api_service(ctl, tokens, audit->get(), *verifier);
  auto creds = server_credentials(transport);
  if (!creds) return fail(creds.error().message);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, *creds, &port);
  builder.RegisterService(&link_service);
  builder.RegisterService(&api_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return fail("cannot listen on " + listen);
  spdlog::info("controller listening address={} port={} transport={} auth={} store={} audit={}",
               listen, port, transport.insecure ? "plaintext" : "mtls",
               tokens.open() ? "off" : "tokens", store_path, audit_path);
  {
    std::unique_lock lock(mu);
    // Faults of runs the last controller left behind: confirmed as their injectors return.
    while (!cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop; })) {
      lock.unlock();
      ctl.confirm_orphans();
      lock.lock();
    }
  }
  spdlog::info("controller shutting down");
  // Runs revert their faults while injector streams are still up.
  ctl.shutdown("controller shutting down");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return kExitPassed;
}
