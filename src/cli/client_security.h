// How the CLI proves who it is to a controller: mutual TLS for the connection and a bearer
// token (with a role) for each call. Set once from flags and the environment in main().
#pragma once

#include <string>

#include <grpcpp/grpcpp.h>

#include "common/result.h"
#include "common/transport_security.h"

namespace faultline::cli {

struct ClientSecurity {
  TransportSecurity transport;
  std::string token;
};

void set_client_security(ClientSecurity security);
const ClientSecurity& client_security();

// Reads the token from a file (first line, trimmed); errors name the file.
Result<std::string> read_token_file(const std::string& path);

// A call context with the token and a deadline.
std::unique_ptr<grpc::ClientContext> api_context(std::chrono::seconds deadline);
// The token for a context made elsewhere (streams that need no deadline).
void authorize(grpc::ClientContext& ctx);

}  // namespace faultline::cli
