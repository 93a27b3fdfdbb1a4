#include "controller/link/injector_link_service.h"

#include "common/log.h"
#include "controller/link/grpc_injector_link.h"

namespace faultline::controller {

grpc::Status InjectorLinkService::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<pb::ControllerMessage, pb::InjectorMessage>* stream) {
  pb::InjectorMessage first;
  if (!stream->Read(&first) || !first.has_register_())
    return {grpc::StatusCode::INVALID_ARGUMENT, "the first message must be Register"};
  const auto& reg = first.register_();
  if (reg.node_name().empty())
    return {grpc::StatusCode::INVALID_ARGUMENT, "Register.node_name is empty"};

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
  registry_.add(link);
  spdlog::info("injector connected node={} peer={} capabilities={}", info.node_name,
               context->peer(), fmt::format("{}", fmt::join(info.capabilities, ",")));
  pb::InjectorMessage msg;
  while (stream->Read(&msg)) link->on_message(msg);
  // The stream object dies when this handler returns; the link must stop using it first.
  link->close();
  registry_.remove(link.get());
  spdlog::warn("injector disconnected node={}", info.node_name);
  return grpc::Status::OK;
}

}  // namespace faultline::controller
