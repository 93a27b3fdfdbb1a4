#include "cli/injectors_command.h"

#include <cstdio>
#include <map>

#include "cli/api_call.h"
#include "cli/client_security.h"
#include "common/exit_codes.h"
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

int list_injectors(const std::string& controller) {
  return call_controller(
      controller,
      [](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
        v1::ListInjectorsResponse resp;
        grpc::Status s = stub.ListInjectors(&ctx, {}, &resp);
        if (!s.ok()) return s;
        for (const auto& i : resp.injectors()) {
          // Sorted: the wire map has no order, and people compare these lines.
          std::map<std::string, std::string> sorted(i.labels().begin(), i.labels().end());
          std::string labels, caps;
          for (const auto& [k, v] : sorted) labels += (labels.empty() ? "" : ",") + k + "=" + v;
          for (const auto& c : i.capabilities()) caps += (caps.empty() ? "" : ",") + c;
          std::printf("%s\tlabels=%s\tcapabilities=%s\tlast_seen=%lldms\n", i.node_name().c_str(),
                      labels.c_str(), caps.c_str(), static_cast<long long>(i.last_seen_ms_ago()));
        }
        return s;
      },
      std::chrono::seconds(5));
}

}  // namespace faultline::cli
