// Admin commands against a controller: API tokens and injector connections.
#pragma once

#include <string>

namespace faultline::cli {

int create_token(const std::string& controller, const std::string& name, const std::string& role);
int revoke_token(const std::string& controller, const std::string& name);
int list_tokens(const std::string& controller);
int disconnect_injector(const std::string& controller, const std::string& node);

}  // namespace faultline::cli
