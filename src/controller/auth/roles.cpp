#include "controller/auth/roles.h"

namespace faultline::controller {

const char* role_name(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> parse_role(const std::string& name) {
  for (Role r : {Role::kViewer, Role::kOperator, Role::kAdmin})
    if (name == role_name(r)) return r;
  return std::nullopt;
}

bool is_api_client_name(const std::string& certificate_name) {
  return certificate_name.rfind("faultline-", 0) == 0;
}

}  // namespace faultline::controller
