// Bearer tokens for the controller API. A token names a caller and carries one role. Tokens
// come from a static file the operator writes (like a Kubernetes static token file) and from
// admins through the API; only SHA-256 digests are kept in memory and in the store, so a
// leaked database does not leak credentials.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/result.h"
#include "controller/auth/roles.h"
#include "controller/auth/token_store.h"

namespace faultline::controller {

struct Caller {
  std::string name;  // the token's name, "anonymous" when authentication is off
  Role role = Role::kViewer;
  std::string peer;  // where the call came from
};

class TokenAuthority {
 public:
  // `store` (may be null) keeps admin-made tokens across restarts.
  explicit TokenAuthority(std::shared_ptr<TokenStore> store = nullptr);

  // Lines "token,name,role"; '#' starts a comment. Errors name the file and line.
  Status load_file(const std::string& path);
  // Authentication off: every caller is an admin named "anonymous". Only with --insecure
  // and no tokens at all, for labs.
  void set_open(bool open) { open_ = open; }
  bool open() const { return open_; }
  size_t size() const;

  // Reads "authorization: Bearer <token>". UNAUTHENTICATED when missing or unknown.
  Result<Caller> authenticate(const grpc::ServerContext& context) const;
  // The same from the header's value (any transport); `peer` is where the call came from.
  Result<Caller> authenticate(const std::optional<std::string>& authorization,
                              const std::string& peer) const;

  // Admin operations. create() returns the new token's secret (shown once).
  Result<std::string> create(const std::string& name, Role role);
  Status revoke(const std::string& name);
  std::vector<TokenRecord> list() const;

 private:
  Status add(TokenRecord record);

  std::shared_ptr<TokenStore> store_;
  bool open_ = false;
  mutable std::mutex mu_;
  std::map<std::string, TokenRecord> by_digest_;
};

// Why a caller's role is not enough for `action`, naming the caller, its role and the role
// needed: "AbortRun needs role operator; token vera has role viewer".
std::string role_refusal(const Caller& caller, Role needed, const std::string& action);

}  // namespace faultline::controller
