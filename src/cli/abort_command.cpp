#include "cli/abort_command.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/client_security.h"
#include "cli/injectors_command.h"
#include "cli/local_runs.h"
#include "common/exit_codes.h"
#include "controller/run_state.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {
namespace pb = ::faultline::v1;

namespace {

int abort_local(const std::string& run_id, const std::string& reason) {
  auto pid = find_local_run(run_id);
  if (!pid) {
    std::fprintf(stderr,
                 "faultline: no run %s on this machine (for a run on a faultline-controller, "
                 "pass --controller)\n",
                 run_id.c_str());
    return kExitInvalidOrInfra;
  }
  leave_abort_reason(run_id, reason);
  // The run's own Ctrl-C path: revert every fault, run rollbacks, end ABORTED.
  if (kill(*pid, SIGINT) != 0) {
    std::perror("faultline: kill");
    return kExitInvalidOrInfra;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (find_local_run(run_id)) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "faultline: run %s (pid %d) is still reverting after 60s\n",
                   run_id.c_str(), *pid);
      return kExitInvalidOrInfra;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::printf("run %s aborted (its own output has the details)\n", run_id.c_str());
  return kExitPassed;
}

int abort_remote(const std::string& run_id, const std::string& controller,
                 const std::string& reason) {
  std::string error;
  auto channel = connect_controller(controller, error);
  if (!channel) {
    std::fprintf(stderr, "faultline: %s\n", error.c_str());
    return kExitInvalidOrInfra;
  }
  auto stub = pb::ControllerApi::NewStub(channel);
  pb::AbortRunResponse resp;
  {
    grpc::ClientContext ctx;
    authorize(ctx);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    pb::AbortRunRequest req;
    req.set_run_id(run_id);
    req.set_reason(reason);
    grpc::Status s = stub->AbortRun(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "faultline: %s\n", s.error_message().c_str());
      return kExitInvalidOrInfra;
    }
  }
  // Follow the run to its end: the abort is done when every fault is confirmed reverted.
  grpc::ClientContext watch_ctx;
  authorize(watch_ctx);
  watch_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  pb::WatchRunRequest watch;
  watch.set_run_id(run_id);
  auto reader = stub->WatchRun(&watch_ctx, watch);
  pb::RunEvent ev;
  std::optional<pb::RunSummary> summary;
  while (reader->Read(&ev))
    if (ev.type() == pb::EVENT_TYPE_RUN_FINISHED) summary = ev.summary();
  reader->Finish();
  if (!summary) {
    std::fprintf(stderr, "faultline: run %s did not report its end within 60s\n", run_id.c_str());
    return kExitInvalidOrInfra;
  }
  std::printf("run %s %s: %s\n", run_id.c_str(), controller::state_name(summary->verdict()),
              summary->reason().c_str());
  if (!resp.accepted()) {
    std::fprintf(stderr, "faultline: run %s had already ended; nothing to abort\n", run_id.c_str());
    return kExitHypothesisFailed;
  }
  if (summary->abort_to_reverted_ms() >= 0)
    std::printf("every fault reverted %lld ms after the abort\n",
                static_cast<long long>(summary->abort_to_reverted_ms()));
  return kExitPassed;
}

}  // namespace

int abort_run(const std::string& run_id, const std::string& controller, std::string reason) {
  if (reason.empty()) reason = "aborted with faultline abort";
  return controller.empty() ? abort_local(run_id, reason)
                            : abort_remote(run_id, controller, reason);
}

}  // namespace faultline::cli
