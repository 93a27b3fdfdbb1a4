// One proxy: listens on `listen`, and for every connection it accepts dials `upstream` and
// runs the two directions through the proxy's toxics (LinkPump). Disabling it (Toxiproxy's
// `enabled: false`, the "down" fault) closes the listener and every open connection; enabling
// it listens again on the same address. Needs no privilege: plain sockets, in user space.
#pragma once

#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sys/socket.h>

#include "common/result.h"
#include "common/unique_fd.h"
#include "proxy/toxic_set.h"

namespace faultline::proxy {

struct ProxyConfig {
  std::string name;
  std::string listen;    // host:port; port 0 picks a free one
  std::string upstream;  // host:port
  bool enabled = true;
};

class TcpProxy {
 public:
  explicit TcpProxy(ProxyConfig config);
  ~TcpProxy();  // stops: closes the listener and every connection, joins every thread
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Starts listening (if enabled). Errors name the address and why.
  Status start();
  // Applies a change of listen, upstream or enabled: a new address or upstream restarts the
  // proxy (open connections are closed, as Toxiproxy does).
  Status update(const ProxyConfig& next);

  ProxyConfig config() const;
  ToxicSet& toxics() { return toxics_; }
  const ToxicSet& toxics() const { return toxics_; }

 private:
  struct Connection;
  Status listen_locked();
  void stop_locked(std::unique_lock<std::mutex>& lock);
  void accept_loop(int listener);
  void serve(std::shared_ptr<Connection> c);
  void reap_locked();

  // Held through a whole start, update or stop: two API calls on one proxy at once (the API
  // serves requests concurrently) must not both stop and restart it.
  std::mutex control_mu_;
  mutable std::mutex mu_;  // config_, listener_, connections_; released while joining threads
  ProxyConfig config_;
  // Threads serving connections: the proxy waits for all of them when it stops.
  std::mutex live_mu_;
  std::condition_variable live_cv_;
  int live_threads_ = 0;
  ToxicSet toxics_;
  UniqueFd listener_;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::list<std::shared_ptr<Connection>> connections_;
};

// "host:port" -> a sockaddr for IPv4 or IPv6 literals and "localhost"; anything else an error.
struct Endpoint {
  int family = 0;
  sockaddr_storage addr{};
  socklen_t len = 0;
};
Result<Endpoint> parse_endpoint(const std::string& hostport);
std::string endpoint_text(const sockaddr* sa);

}  // namespace faultline::proxy
