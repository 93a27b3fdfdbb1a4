// The interceptor's listener: one socket for both address families on a port the kernel picks,
// where an http_fault's REDIRECT rules send the scope's connections. Each accepted connection
// is served by an HttpConnection to the client's original destination, dialled from a socket
// carrying the interceptor's mark so that the rules let it through.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"
#include "injector/intercept/http_connection.h"
#include "injector/intercept/tls_relay.h"

namespace faultline::injector::intercept {

class HttpInterceptor {
 public:
  // `tls`: terminate TLS connections with it; null passes them through uninspected.
  HttpInterceptor(HttpRules rules, uint32_t own_mark, std::unique_ptr<TlsTerminator> tls = {});
  ~HttpInterceptor();

  // Binds; returns the port. Nothing runs yet (the helper confines itself in between).
  Result<uint16_t> listen();
  // Starts accepting.
  void run();
  // Stops accepting, lets every connection finish its request in flight (at most `deadline_ms`)
  // and closes what is left.
  void drain(uint64_t deadline_ms);
  const InterceptStats& stats() const { return stats_; }

 private:
  struct Served {
    std::unique_ptr<HttpConnection> conn;
    std::thread thread;
  };
  void accept_loop();
  void serve(UniqueFd client);
  void reap(bool all);

  HttpRules rules_;
  uint32_t mark_;
  std::unique_ptr<TlsTerminator> tls_;
  uint16_t port_ = 0;
  UniqueFd listener_;
  InterceptStats stats_;
  Drain drain_;
  std::thread acceptor_;
  std::mutex mu_;
  std::list<Served> served_;
};

}  // namespace faultline::injector::intercept
