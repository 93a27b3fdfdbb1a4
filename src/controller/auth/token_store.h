// Where admin-made API tokens persist (digests only). Implemented by the controller's store.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "controller/auth/roles.h"

namespace faultline::controller {

struct TokenRecord {
  std::string name;
  Role role = Role::kViewer;
  std::string digest;  // hex SHA-256 of the secret
  std::string source;  // "file:<path>" or "api"
  int64_t created_unix_ms = 0;
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  virtual Status save_token(const TokenRecord& token) = 0;
  virtual Status delete_token(const std::string& name) = 0;
  virtual std::vector<TokenRecord> load_tokens() const = 0;
};

}  // namespace faultline::controller
