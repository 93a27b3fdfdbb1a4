#include "common/proxy_api_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace faultline {

Result<LoopbackEndpoint> parse_proxy_api(const std::string& api) {
  auto bad = [&](const std::string& why) -> Result<LoopbackEndpoint> {
    return make_error(ErrorCode::kInvalidArgument, "\"" + api + "\" " + why);
  };
  std::string host, port;
  if (!api.empty() && api.front() == '[') {
    size_t close = api.find(']');
    if (close == std::string::npos || close + 1 >= api.size() || api[close + 1] != ':')
      return bad("is not host:port (an IPv6 address is written [::1]:8474)");
    host = api.substr(1, close - 1);
    port = api.substr(close + 2);
  } else {
    size_t colon = api.rfind(':');
    if (colon == std::string::npos || api.find(':') != colon)
      return bad("is not host:port (e.g. 127.0.0.1:8474)");
    host = api.substr(0, colon);
    port = api.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535)
    return bad("has no port from 1 to 65535");
  in_addr v4{};
  in6_addr v6{};
  bool v4_literal = inet_pton(AF_INET, host.c_str(), &v4) == 1;
  if (!v4_literal && inet_pton(AF_INET6, host.c_str(), &v6) != 1)
    return bad(
        "does not start with an IP address (write 127.0.0.1, not a name: a name could "
        "resolve to another machine)");
  if (v4_literal ? (ntohl(v4.s_addr) >> 24) != 127 : !IN6_IS_ADDR_LOOPBACK(&v6))
    return bad(
        "is not a loopback address: the injector drives only the proxies of its own "
        "node (127.0.0.0/8 or [::1])");
  return LoopbackEndpoint{host, static_cast<uint16_t>(value)};
}

std::string proxy_api_problem(const std::string& api) {
  auto e = parse_proxy_api(api);
  return e ? "" : e.error().message;
}

std::string proxy_name_problem(const std::string& name) {
  if (name.empty()) return "the proxy's name is empty";
  if (name.size() > 128) return "a proxy's name is at most 128 characters";
  // "." and ".." are path segments a server may normalise away (/proxies/../reset).
  if (name.front() == '.') return "\"" + name + "\" starts with '.'";
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return "\"" + name + "\" has a character other than letters, digits, '-', '_' and '.'";
  return "";
}

}  // namespace faultline
