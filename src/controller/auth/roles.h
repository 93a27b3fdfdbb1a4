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

// Certificate names are split in two: "faultline-..." are faultline's own parts (the CLI's
// is faultline-cli) and only they may call the API; every other name is a node's, which may
// only connect as that node's injector. So a certificate taken from a node cannot drive
// experiments, and the CLI's cannot pose as a node.
bool is_api_client_name(const std::string& certificate_name);

}  // namespace faultline::controller
