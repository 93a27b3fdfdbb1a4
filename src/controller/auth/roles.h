// Who may do what through the controller API. Each role includes the ones below it.
#pragma once

#include <optional>
#include <string>

namespace faultline::controller {

enum class Role {
  kViewer = 1,    // read runs, journals, injectors
  kOperator = 2,  // run and abort experiments
  kAdmin = 3,     // manage injectors and tokens
};

const char* role_name(Role role);
std::optional<Role> parse_role(const std::string& name);

}  // namespace faultline::controller
