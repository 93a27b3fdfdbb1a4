// Where a proxy_toxic fault's proxy is, checked the same way by the experiment loader (for a
// clear error at the line) and by the injector (which never trusts a remote submission): the
// API must be a loopback address given as a literal (a name could resolve anywhere, and the
// injector must not become a way to send requests off the node), and the proxy's name must be
// safe to put in a URL path as it is.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace faultline {

struct LoopbackEndpoint {
  std::string host;  // "127.0.0.1" or "::1" style literal, without brackets
  uint16_t port = 0;
};

// "" when fine, else why not (for the message after the field name).
std::string proxy_api_problem(const std::string& api);
std::string proxy_name_problem(const std::string& name);

Result<LoopbackEndpoint> parse_proxy_api(const std::string& api);

}  // namespace faultline
