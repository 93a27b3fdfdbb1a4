#include "controller/link/injector_link_service.h"

#include "controller/auth/roles.h"

namespace faultline::controller {

void InjectorLinkService::configure(grpc::ServerBuilder& builder) {
  // No bandwidth-delay probing: HTTP/2 pings and timers on every stream that receives data,
  // to grow windows for bulk transfers this link never makes (its messages are a few hundred
  // bytes). With a thousand injectors heartbeating, those timers woke gRPC's timer threads
  // about as often as the heartbeats themselves.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
}

grpc::Status check_node_binding(const PeerIdentity& peer, const std::string& node) {
  // The controller's and the CLI's certificates name faultline's own parts, never a node.
  if (is_api_client_name(node))
    return {grpc::StatusCode::PERMISSION_DENIED,
            "node names starting with \"faultline-\" are reserved for faultline's own "
            "certificates"};
  std::vector<std::string> names = peer.dns_names;
  names.insert(names.begin(), peer.common_name);
  for (const auto& n : names)
    if (!n.empty() && n == node) return grpc::Status::OK;
  std::string have;
  for (const auto& n : names)
    if (!n.empty()) have += (have.empty() ? "" : ", ") + n;
  return {grpc::StatusCode::PERMISSION_DENIED,
          "node name \"" + node + "\" is not the one in this injector's certificate (" +
              (have.empty() ? "no names" : have) +
              "): an injector may only register as the node its certificate names"};
}

}  // namespace faultline::controller
