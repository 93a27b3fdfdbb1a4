#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/client_security.h"
#include "cli/injectors_command.h"
#include "cli/run_command.h"
#include "cli/run_pages.h"
#include "cli/run_printer.h"
#include "common/exit_codes.h"
#include "common/signals.h"
#include "experiments/loader.h"
#include "experiments/vars.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {

namespace pb = ::faultline::v1;

int run_remote(const RunOptions& options, v1::Run* record, experiments::ReportSpec* report) {
  std::mutex mu;
  std::string run_id;
  std::unique_ptr<pb::ControllerApi::Stub> stub;
  ShutdownSignals signals([&](int sig) {
    std::lock_guard lock(mu);
    if (run_id.empty() || !stub) return;
    grpc::ClientContext ctx;
    authorize(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    pb::AbortRunRequest req;
    req.set_run_id(run_id);
    req.set_reason(interrupted_reason(sig, " in the CLI"));
    pb::AbortRunResponse resp;
    grpc::Status s = stub->AbortRun(&ctx, req, &resp);
    if (!s.ok()) std::fprintf(stderr, "faultline: abort failed: %s\n", s.error_message().c_str());
  });

  // Validate locally first: the same loader, so errors name the user's own path.
  experiments::LoadOptions load_options;
  load_options.vars = options.vars;
  load_options.read_process_environment = true;
  auto loaded = experiments::load_experiment_file(options.file, load_options);
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    return kExitInvalidOrInfra;
  }
  if (report) *report = loaded.experiment->report;
  std::ifstream in(options.file);
  std::stringstream text;
  text << in.rdbuf();

  std::string error;
  auto channel = connect_controller(options.controller, error);
  if (!channel) {
    std::fprintf(stderr, "faultline: %s\n", error.c_str());
    return kExitInvalidOrInfra;
  }
  {
    std::lock_guard lock(mu);
    stub = pb::ControllerApi::NewStub(channel);
  }

  pb::SubmitExperimentRequest req;
  req.set_yaml(text.str());
  req.set_source_name(options.file);
  req.mutable_vars()->insert(options.vars.begin(), options.vars.end());
  auto environment = experiments::referenced_environment(text.str());
  req.mutable_environment()->insert(environment.begin(), environment.end());
  if (options.seed) req.set_seed(*options.seed);
  req.set_dry_run(options.plan_only);
  req.set_queue(options.queue);
  pb::SubmitExperimentResponse resp;
  {
    grpc::ClientContext ctx;
    authorize(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = stub->SubmitExperiment(&ctx, req, &resp);
    if (!s.ok()) {
      // Diagnostics already carry file:line; a plan error gets the file; the rest is ours.
      const char* prefix = "faultline: ";
      std::string file_prefix = options.file + ": ";
      // Validation errors and policy refusals are file:line:column lines already.
      if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
          s.error_code() == grpc::StatusCode::PERMISSION_DENIED)
        prefix = "";
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) prefix = file_prefix.c_str();
      std::fprintf(stderr, "%s%s\n", prefix, s.error_message().c_str());
      return kExitInvalidOrInfra;
    }
  }
  if (options.plan_only) {
    std::printf("%s", resp.plan_text().c_str());
    return kExitPassed;
  }
  {
    std::lock_guard lock(mu);
    run_id = resp.run_id();
  }
  std::printf("faultline: run %s of %s (controller %s)\n", resp.run_id().c_str(),
              options.file.c_str(), options.controller.c_str());

  RunPrinter printer;
  grpc::ClientContext watch_ctx;
  authorize(watch_ctx);
  pb::WatchRunRequest watch;
  watch.set_run_id(resp.run_id());
  auto reader = stub->WatchRun(&watch_ctx, watch);
  pb::RunEvent ev;
  while (reader->Read(&ev)) printer.on_event(ev);
  grpc::Status s = reader->Finish();
  int code = printer.finish();
  if (record && s.ok()) {
    grpc::Status got = get_whole_run(*stub, resp.run_id(), record);
    if (!got.ok())
      std::fprintf(stderr, "faultline: cannot fetch run %s for its reports: %s\n",
                   resp.run_id().c_str(), got.error_message().c_str());
  }
  if (!s.ok() && code == kExitInvalidOrInfra)
    std::fprintf(stderr, "faultline: lost contact with controller %s: %s\n",
                 options.controller.c_str(), s.error_message().c_str());
  return code;
}

}  // namespace faultline::cli
