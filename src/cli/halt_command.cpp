#include "cli/halt_command.h"

#include <cstdio>

#include "cli/api_call.h"
#include "common/time_util.h"

namespace faultline::cli {

namespace {

std::string who_when(const v1::HaltState& h) {
  return "by " + h.halted_by() + " at " + format_utc_millis(h.halted_unix_ms()) + ": " + h.reason();
}

}  // namespace

std::string halt_banner(const v1::HaltState& h) {
  if (!h.halted()) return "";
  return "FLEET HALTED " + who_when(h) + " (faultline unhalt lifts it)";
}

int halt_fleet(const std::string& controller, const std::string& reason) {
  if (controller.empty()) {
    std::fprintf(stderr,
                 "faultline: halt needs --controller (or FAULTLINE_CONTROLLER): it halts a "
                 "controller's fleet; a run on this machine stops with faultline abort\n");
    return kExitInvalidOrInfra;
  }
  bool clean = true;
  // Aborting runs waits for each to revert its faults: allow for slow nodes.
  int rc = call_controller(
      controller,
      [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
        v1::HaltRequest req;
        req.set_reason(reason);
        v1::HaltResponse resp;
        grpc::Status s = stub.Halt(&ctx, req, &resp);
        if (!s.ok()) return s;
        std::printf("fleet halted %s\n", who_when(resp.state()).c_str());
        std::string nodes;
        for (const auto& n : resp.nodes()) nodes += (nodes.empty() ? "" : ", ") + n;
        std::printf("%u run%s aborted; %u fault%s reverted%s%s; took %u ms\n", resp.runs_aborted(),
                    resp.runs_aborted() == 1 ? "" : "s", resp.faults_reverted(),
                    resp.faults_reverted() == 1 ? "" : "s", nodes.empty() ? "" : " on ",
                    nodes.c_str(), resp.took_ms());
        if (resp.faults_unconfirmed()) {
          clean = false;
          std::fprintf(stderr,
                       "faultline: %u fault%s not confirmed reverted (node unreachable or the "
                       "revert failed); their leases end them\n",
                       resp.faults_unconfirmed(), resp.faults_unconfirmed() == 1 ? "" : "s");
        }
        if (!resp.not_kept().empty()) {
          clean = false;
          std::fprintf(stderr,
                       "faultline: the controller could not store the halt (%s): it holds until "
                       "the controller restarts\n",
                       resp.not_kept().c_str());
        }
        std::printf(
            "new runs and schedule fires are refused until an admin runs: faultline "
            "unhalt --controller %s\n",
            controller.c_str());
        return s;
      },
      std::chrono::seconds(120));
  if (rc != kExitPassed) return rc;
  return clean ? kExitPassed : kExitInvalidOrInfra;
}

int unhalt_fleet(const std::string& controller) {
  if (controller.empty()) {
    std::fprintf(stderr, "faultline: unhalt needs --controller (or FAULTLINE_CONTROLLER)\n");
    return kExitInvalidOrInfra;
  }
  return call_controller(controller, [](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::HaltState resp;
    grpc::Status s = stub.Unhalt(&ctx, v1::UnhaltRequest(), &resp);
    if (!s.ok()) return s;
    std::printf("halt lifted by %s (it was %s); runs may start again\n", resp.lifted_by().c_str(),
                who_when(resp).c_str());
    return s;
  });
}

}  // namespace faultline::cli
