// HTTP/1.1 for the injector's few peers on this node: a container engine's unix socket (the
// Docker Engine API, Podman's compatible service) and a fault proxy's API on loopback. One
// request per connection ("Connection: close"). Bounded as a root daemon must be against
// whatever listens there: one deadline for the whole call (connect, send, every byte of the
// answer), and a cap on everything read (head and body), so a peer that drips bytes or never
// ends a line costs the injector the timeout and the cap, never more.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"

namespace faultline::injector {

struct HttpAnswer {
  long status = 0;
  std::string body;
};
using UnixHttpResponse = HttpAnswer;

// `method` "GET", "POST" or "DELETE"; `target` the path and query ("/v1.41/containers/json?").
// Errors are kUnavailable, except a TCP connect that was refused: kNotFound (nothing listens
// there, so nothing of ours can be held there either).
Result<HttpAnswer> unix_http(const std::string& socket, const std::string& method,
                             const std::string& target, std::chrono::milliseconds timeout,
                             size_t max_body = 16 << 20);
// The same over TCP to a literal address (IPv4 or IPv6, no name resolution), with a JSON body
// when `body` is not empty.
Result<HttpAnswer> tcp_http(const std::string& host, uint16_t port, const std::string& method,
                            const std::string& target, const std::string& body,
                            std::chrono::milliseconds timeout, size_t max_body);

// Percent-encodes a query value.
std::string url_encode(const std::string& s);

}  // namespace faultline::injector
