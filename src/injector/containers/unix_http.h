// HTTP/1.1 over a unix socket (the Docker Engine API, Podman's compatible service), one
// request per connection. Bounded: a response larger than the limit, or slower than the
// timeout, is an error; so is anything that is not an HTTP answer.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace faultline::injector {

struct UnixHttpResponse {
  long status = 0;
  std::string body;
};

// `method` "GET" or "POST"; `target` the path and query ("/v1.41/containers/json?...").
Result<UnixHttpResponse> unix_http(const std::string& socket, const std::string& method,
                                   const std::string& target, std::chrono::milliseconds timeout,
                                   size_t max_body = 16 << 20);

// Percent-encodes a query value.
std::string url_encode(const std::string& s);

}  // namespace faultline::injector
