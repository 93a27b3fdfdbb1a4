// faultline-controller: the long-running controller that injectors dial into and the CLI
// submits experiments to.
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <iostream>

#include <grpcpp/grpcpp.h>

#include "common/exit_codes.h"
#include "common/log.h"
#include "common/signals.h"
#include "controller/api/controller_api_service.h"
#include "controller/controller.h"
#include "controller/link/injector_link_service.h"
#include "controller/store/file_run_store.h"

using namespace faultline;

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
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_flag("--log-json", log_json, "log one JSON object per line");
  CLI11_PARSE(app, argc, argv);

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  ShutdownSignals signals([&](int sig) {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  });
  init_logging(log_level, log_json);

  controller::Controller ctl(settings);
  // Finished runs outlive this process: `faultline journal/report --controller` read them.
  ctl.set_store(std::make_shared<controller::FileRunStore>(controller::default_run_store_dir()));
  if (otlp_listen != "off") {
    if (Status s = ctl.start_otlp(otlp_listen); !s) {
      // Asked for explicitly, it must work; the default port may simply be taken by a
      // collector on this host, and runs without trace SLIs still work.
      if (otlp_opt->count() > 0) {
        std::cerr << "faultline-controller: " << s.error().message << "\n";
        return kExitInvalidOrInfra;
      }
      spdlog::warn("OTLP receiver not started: {}; experiments with trace SLIs will be refused",
                   s.error().message);
    }
  }
  controller::InjectorLinkService link_service(ctl.registry(), std::chrono::seconds(1),
                                               std::chrono::seconds(10));
  controller::ControllerApiService api_service(ctl);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&link_service);
  builder.RegisterService(&api_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "faultline-controller: cannot listen on " << listen << "\n";
    return kExitInvalidOrInfra;
  }
  spdlog::warn("controller listening address={} port={} transport=plaintext (mTLS not configured)",
               listen, port);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  spdlog::info("controller shutting down");
  // Runs revert their faults while injector streams are still up.
  ctl.shutdown("controller shutting down");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return kExitPassed;
}
