#include "controller/auth/token_authority.h"

#include <algorithm>
#include <fstream>

#include "common/secret_file.h"
#include "common/sha256.h"
#include "common/time_util.h"

namespace faultline::controller {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '@')
      return false;
  return true;
}

}  // namespace

TokenAuthority::TokenAuthority(std::shared_ptr<TokenStore> store) : store_(std::move(store)) {
  if (!store_) return;
  for (auto& t : store_->load_tokens()) by_digest_[t.digest] = t;
}

Status TokenAuthority::add(TokenRecord record) {
  std::lock_guard lock(mu_);
  for (const auto& [_, t] : by_digest_)
    if (t.name == record.name)
      return make_error(ErrorCode::kInvalidArgument, "a token named " + record.name + " exists");
  if (by_digest_.count(record.digest))
    return make_error(ErrorCode::kInvalidArgument, "the same secret is already a token");
  by_digest_[record.digest] = std::move(record);
  return Ok{};
}

Status TokenAuthority::load_file(const std::string& path) {
  if (Status s = check_secret_file(path, "token file"); !s) return s;
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kInvalidArgument, "cannot read token file " + path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
      f.push_back(trim(line.substr(start, comma - start)));
    f.push_back(trim(line.substr(start)));
    auto where = path + ":" + std::to_string(n) + ": ";
    if (f.size() != 3)
      return make_error(
          ErrorCode::kInvalidArgument,
          where + "expected token,name,role (3 fields), found " + std::to_string(f.size()));
    if (f[0].size() < 16)
      return make_error(ErrorCode::kInvalidArgument,
                        where +
                            "token: too short (at least 16 characters; "
                            "`openssl rand -hex 32` makes a good one)");
    if (!valid_name(f[1]))
      return make_error(ErrorCode::kInvalidArgument,
                        where + "name: \"" + f[1] + "\" (letters, digits, - _ . @)");
    auto role = parse_role(f[2]);
    if (!role)
      return make_error(ErrorCode::kInvalidArgument,
                        where + "role: \"" + f[2] + "\" (expected viewer, operator or admin)");
    if (Status s = add({f[1], *role, sha256_hex(f[0]), "file:" + path, 0}); !s)
      return make_error(ErrorCode::kInvalidArgument, where + s.error().message);
  }
  return Ok{};
}

size_t TokenAuthority::size() const {
  std::lock_guard lock(mu_);
  return by_digest_.size();
}

Result<Caller> TokenAuthority::authenticate(const grpc::ServerContext& context) const {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  std::optional<std::string> value;
  if (it != md.end()) value = std::string(it->second.data(), it->second.size());
  return authenticate(value, context.peer());
}

Result<Caller> TokenAuthority::authenticate(const std::optional<std::string>& authorization,
                                            const std::string& peer) const {
  Caller caller{"anonymous", Role::kAdmin, peer};
  if (open_) return caller;
  if (!authorization)
    return make_error(ErrorCode::kPermissionDenied,
                      "no API token: pass --token-file FILE or set FAULTLINE_TOKEN");
  const std::string& value = *authorization;
  const std::string prefix = "Bearer ";
  if (value.compare(0, prefix.size(), prefix) != 0)
    return make_error(ErrorCode::kPermissionDenied,
                      "authorization metadata is not \"Bearer <token>\"");
  std::string digest = sha256_hex(value.substr(prefix.size()));
  std::lock_guard lock(mu_);
  auto t = by_digest_.find(digest);
  if (t == by_digest_.end())
    return make_error(ErrorCode::kPermissionDenied, "unknown or revoked API token");
  caller.name = t->second.name;
  caller.role = t->second.role;
  return caller;
}

Result<std::string> TokenAuthority::create(const std::string& name, Role role) {
  if (!valid_name(name))
    return make_error(ErrorCode::kInvalidArgument,
                      "token name \"" + name + "\": letters, digits, - _ . @ (at most 64)");
  std::string secret = random_secret_hex();
  TokenRecord rec{name, role, sha256_hex(secret), "api", unix_millis_now()};
  if (Status s = add(rec); !s) return s.error();
  if (store_) {
    if (Status s = store_->save_token(rec); !s) {
      std::lock_guard lock(mu_);
      by_digest_.erase(rec.digest);
      return s.error();
    }
  }
  return secret;
}

Status TokenAuthority::revoke(const std::string& name) {
  std::lock_guard lock(mu_);
  for (auto it = by_digest_.begin(); it != by_digest_.end(); ++it) {
    if (it->second.name != name) continue;
    if (it->second.source != "api")
      return make_error(ErrorCode::kFailedPrecondition,
                        "token " + name + " comes from " + it->second.source.substr(5) +
                            "; remove it there and restart the controller");
    if (store_)
      if (Status s = store_->delete_token(name); !s) return s;
    by_digest_.erase(it);
    return Ok{};
  }
  return make_error(ErrorCode::kNotFound, "no token named " + name);
}

std::vector<TokenRecord> TokenAuthority::list() const {
  std::lock_guard lock(mu_);
  std::vector<TokenRecord> out;
  for (const auto& [_, t] : by_digest_) out.push_back(t);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

std::string role_refusal(const Caller& caller, Role needed, const std::string& action) {
  return action + " needs role " + role_name(needed) + "; token " + caller.name + " has role " +
         role_name(caller.role);
}

}  // namespace faultline::controller
