// Serves a registry for Prometheus: GET /metrics in the text format 0.0.4, on its own small
// thread pool, for as long as the object lives (RAII: the destructor stops and joins).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/metrics/registry.h"
#include "common/result.h"

namespace httplib {
class Server;
}

namespace faultline::metrics {

struct ListenAddress {
  std::string host;
  int port = 0;
};

// "HOST:PORT", "[IPv6]:PORT"; port 0 asks the kernel for a free one. An error names what is
// wrong with the text.
Result<ListenAddress> parse_listen_address(const std::string& text);

class MetricsServer {
 public:
  // Binds before returning: a bad address or a port in use is an error here (kInvalidArgument
  // for the text, kUnavailable for the bind), not a silent thread failure later.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& listen,
                                                      const Registry& registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the kernel's pick when asked for 0).
  int port() const { return port_; }
  const std::string& host() const { return host_; }

 private:
  MetricsServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

}  // namespace faultline::metrics
