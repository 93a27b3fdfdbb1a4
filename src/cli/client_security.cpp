#include "cli/client_security.h"

#include "common/secret_file.h"

#include <fstream>

namespace faultline::cli {
namespace {

ClientSecurity& current() {
  static ClientSecurity security;
  return security;
}

}  // namespace

void set_client_security(ClientSecurity security) {
  current() = std::move(security);
}

const ClientSecurity& client_security() {
  return current();
}

Result<std::string> read_token_file(const std::string& path) {
  if (Status s = check_secret_file(path, "token file"); !s) return s.error();
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line))
    return make_error(ErrorCode::kInvalidArgument, "cannot read token file " + path);
  auto b = line.find_first_not_of(" \t\r");
  auto e = line.find_last_not_of(" \t\r");
  if (b == std::string::npos)
    return make_error(ErrorCode::kInvalidArgument, "token file " + path + " is empty");
  return line.substr(b, e - b + 1);
}

void authorize(grpc::ClientContext& ctx) {
  if (!current().token.empty()) ctx.AddMetadata("authorization", "Bearer " + current().token);
}

std::unique_ptr<grpc::ClientContext> api_context(std::chrono::seconds deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  authorize(*ctx);
  return ctx;
}

}  // namespace faultline::cli
