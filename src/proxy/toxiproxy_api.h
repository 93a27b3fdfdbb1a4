// Toxiproxy's HTTP API (same paths, JSON shapes and status codes), served by
// `faultline proxy` on 127.0.0.1:8474 by default, so test suites written against Toxiproxy's
// clients drive faultline's proxy unchanged. Requests that look like they come from a browser
// (a Mozilla user agent, or any Origin header) are refused with 403, as Toxiproxy refuses
// them: a web page must not be able to cut a developer's database connection.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "proxy/proxy_collection.h"

namespace httplib {
class Server;
}

namespace faultline::proxy {

// The Toxiproxy API version whose behaviour this follows (what /version reports).
inline constexpr const char* kProxyVersion = "2.12.0";

class ToxiproxyApi {
 public:
  explicit ToxiproxyApi(ProxyCollection& proxies);
  ~ToxiproxyApi();
  // Binds host:port (port 0 picks one; port() says which) and serves on a thread of its own.
  Status start(const std::string& host, int port);
  void stop();
  int port() const { return port_; }

 private:
  void routes();

  ProxyCollection& proxies_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace faultline::proxy
