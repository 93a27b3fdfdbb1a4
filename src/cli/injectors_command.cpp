#include "cli/injectors_command.h"

#include <cstdio>

#include "cli/api_call.h"
#include "cli/client_security.h"
#include "cli/halt_command.h"
#include "common/exit_codes.h"
#include "controller/link/injector_roster.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {

std::shared_ptr<grpc::Channel> connect_controller(const std::string& address, std::string& error) {
  const auto& sec = client_security();
  if (Status s = check_transport(sec.transport, "faultline"); !s) {
    error = s.error().message.substr(std::string("faultline: ").size());
    return nullptr;
  }
  auto channel = secure_client_channel(address, sec.transport);
  if (!channel) {
    error = channel.error().message;
    return nullptr;
  }
  if (!(*channel)->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(3))) {
    error = "cannot reach controller at " + address + " (not answering within 3s" +
            (sec.transport.insecure ? ")"
                                    : "; or the TLS handshake failed: is the controller's "
                                      "certificate from the CA in --tls-dir, and ours from its?)");
    return nullptr;
  }
  return *channel;
}

namespace {

// "850ms", "42s", "17m", "5h", "3d": how long ago, readable at a glance.
std::string ago(int64_t ms) {
  if (ms < 10'000) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 120 * 60) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

}  // namespace

int list_injectors(const std::string& controller, bool all) {
  return call_controller(
      controller,
      [all](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
        v1::ListInjectorsRequest req;
        req.set_include_offline(all);
        v1::ListInjectorsResponse resp;
        grpc::Status s = stub.ListInjectors(&ctx, req, &resp);
        if (!s.ok()) return s;
        if (std::string banner = halt_banner(resp.halt()); !banner.empty())
          std::printf("%s\n", banner.c_str());
        for (const auto& i : resp.injectors()) {
          // Sorted: the wire map has no order, and people compare these lines.
          std::string labels = controller::join_labels({i.labels().begin(), i.labels().end()});
          std::string caps =
              controller::join_list({i.capabilities().begin(), i.capabilities().end()});
          // A state with a reason ("refused: ...") prints the reason last, on one line.
          std::string state = i.state().empty() ? "connected" : i.state();
          std::string reason;
          if (size_t colon = state.find(':'); colon != std::string::npos) {
            size_t from = state.find_first_not_of(' ', colon + 1);
            reason = from == std::string::npos ? "" : state.substr(from);
            state.resize(colon);
            for (char& c : reason)
              if (c == '\t' || c == '\n') c = ' ';
            reason = "\treason=" + reason;
          }
          std::printf("%s\tstate=%s\tlabels=%s\tcapabilities=%s\tlast_seen=%s\tpeer=%s%s\n",
                      i.node_name().c_str(), state.c_str(), labels.c_str(), caps.c_str(),
                      ago(i.last_seen_ms_ago()).c_str(), i.peer().empty() ? "-" : i.peer().c_str(),
                      reason.c_str());
        }
        return s;
      },
      std::chrono::seconds(5));
}

}  // namespace faultline::cli
