#include "cli/token_command.h"

#include <cstdio>

#include "cli/api_call.h"
#include "common/exit_codes.h"
#include "common/time_util.h"
#include "faultline/v1/controller_api.grpc.pb.h"

namespace faultline::cli {

int create_token(const std::string& controller, const std::string& name, const std::string& role) {
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::CreateTokenRequest req;
    req.set_name(name);
    req.set_role(role);
    v1::CreateTokenResponse resp;
    grpc::Status s = stub.CreateToken(&ctx, req, &resp);
    if (s.ok()) {
      std::printf("%s\n", resp.token().c_str());
      std::fprintf(stderr, "token %s (role %s) created; the secret above is shown only once\n",
                   name.c_str(), role.c_str());
    }
    return s;
  });
}

int revoke_token(const std::string& controller, const std::string& name) {
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::RevokeTokenRequest req;
    req.set_name(name);
    v1::RevokeTokenResponse resp;
    grpc::Status s = stub.RevokeToken(&ctx, req, &resp);
    if (s.ok()) std::printf("token %s revoked\n", name.c_str());
    return s;
  });
}

int list_tokens(const std::string& controller) {
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::ListTokensResponse resp;
    grpc::Status s = stub.ListTokens(&ctx, {}, &resp);
    if (!s.ok()) return s;
    std::printf("%-24s %-9s %-20s %s\n", "NAME", "ROLE", "CREATED (UTC)", "SOURCE");
    for (const auto& t : resp.tokens())
      std::printf(
          "%-24s %-9s %-20s %s\n", t.name().c_str(), t.role().c_str(),
          t.created_unix_ms() ? format_utc_millis(t.created_unix_ms()).substr(0, 19).c_str() : "-",
          t.source().c_str());
    return s;
  });
}

int disconnect_injector(const std::string& controller, const std::string& node) {
  return call_controller(controller, [&](v1::ControllerApi::Stub& stub, grpc::ClientContext& ctx) {
    v1::DisconnectInjectorRequest req;
    req.set_node_name(node);
    v1::DisconnectInjectorResponse resp;
    grpc::Status s = stub.DisconnectInjector(&ctx, req, &resp);
    if (s.ok()) std::printf("injector %s disconnected\n", node.c_str());
    return s;
  });
}

}  // namespace faultline::cli
