#include "controller/link/injector_link_service.h"

#include "common/log.h"
#include "controller/auth/roles.h"
#include "controller/controller_metrics.h"
#include "controller/link/grpc_injector_link.h"

namespace faultline::controller {

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

grpc::Status InjectorLinkService::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<pb::ControllerMessage, pb::InjectorMessage>* stream) {
  pb::InjectorMessage first;
  if (!stream->Read(&first) || !first.has_register_())
    return {grpc::StatusCode::INVALID_ARGUMENT, "the first message must be Register"};
  const auto& reg = first.register_();
  if (reg.node_name().empty())
    return {grpc::StatusCode::INVALID_ARGUMENT, "Register.node_name is empty"};

  grpc::Status bound = grpc::Status::OK;
  if (verifier_) {
    auto peer = verifier_->verify(*context->auth_context());
    bound = peer ? check_node_binding(*peer, reg.node_name())
                 : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, peer.error().message);
  }
  if (!bound.ok()) {
    spdlog::warn("injector refused node={} peer={} reason=\"{}\"", reg.node_name(), context->peer(),
                 bound.error_message());
    if (observer_) observer_(reg.node_name(), context->peer(), "refused: " + bound.error_message());
    return bound;
  }

  InjectorInfo info;
  info.node_name = reg.node_name();
  info.labels.insert(reg.labels().begin(), reg.labels().end());
  info.capabilities.assign(reg.capabilities().begin(), reg.capabilities().end());
  info.version = reg.version();

  pb::ControllerMessage welcome;
  welcome.mutable_registered()->set_heartbeat_interval_ms(static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(heartbeat_interval_).count()));
  if (!stream->Write(welcome)) return {grpc::StatusCode::UNAVAILABLE, "stream closed"};

  auto link = std::make_shared<GrpcInjectorLink>(info, stream, command_timeout_);
  link->set_context(context);
  // Three missed heartbeats; the injector's own contact grace is longer, so the controller
  // gives up on a silent node before the node gives up on it.
  link->set_silence_limit(3 * heartbeat_interval_);
  registry_.add(link);
  if (observer_) observer_(info.node_name, context->peer(), "registered");
  if (reg.recovered_fault_ids_size() > 0) {
    controller_metrics().injector_ledger_recoveries_total.inc(reg.recovered_fault_ids_size());
    std::string ids;
    for (const auto& id : reg.recovered_fault_ids()) ids += (ids.empty() ? "" : ",") + id;
    spdlog::warn("injector reverted faults from its ledger at start node={} fault_ids={}",
                 info.node_name, ids);
    if (observer_) observer_(info.node_name, context->peer(), "recovered: " + ids);
  }
  spdlog::info("injector connected node={} peer={} capabilities={}", info.node_name,
               context->peer(), fmt::format("{}", fmt::join(info.capabilities, ",")));
  pb::InjectorMessage msg;
  while (stream->Read(&msg)) link->on_message(msg);
  // The stream object dies when this handler returns; the link must stop using it first.
  link->close();
  registry_.remove(link.get());
  controller_metrics().injector_disconnects_total.inc();
  spdlog::warn("injector disconnected node={}", info.node_name);
  if (observer_) observer_(info.node_name, context->peer(), "disconnected");
  return grpc::Status::OK;
}

}  // namespace faultline::controller
