// Splitting a URL the way cpp-httplib wants it: a client per origin, a path per request.
#pragma once

#include <string>

namespace faultline::controller {

struct HttpUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // /path?query, "" when the URL has none
};

inline HttpUrl split_http_url(const std::string& url) {
  size_t scheme_end = url.find("://");
  size_t path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path_start == std::string::npos) return {url, ""};
  return {url.substr(0, path_start), url.substr(path_start)};
}

// The base URL of an API (Prometheus, Jaeger, Zipkin): its path is a prefix for the API's own
// paths, so trailing slashes go ("http://p:9090/prom/" -> "http://p:9090", "/prom").
inline HttpUrl split_base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return split_http_url(url);
}

}  // namespace faultline::controller
