// One proxy: listens on `listen`, and for every connection it accepts dials `upstream` and
// runs the two directions through the proxy's toxics (LinkPump). Disabling it (Toxiproxy's
// `enabled: false`, the "down" fault) closes the listener and every open connection; enabling
// it listens again on the same address. A disabled proxy may hold a lease (Faultline's
// `lease_ms`): it enables itself again when the lease runs out unless the lease is renewed.
// Needs no privilege: plain sockets, in user space.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
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
  // Faultline's lease on `enabled: false`, as config() reports it: the length in ms of the
  // lease running on this disabled proxy, 0 when none runs. update() does not read it; the
  // lease to start or end is its own argument.
  int64_t lease_ms = 0;
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
  // proxy (open connections are closed, as Toxiproxy does). Enabling ends a running lease;
  // otherwise the lease runs on.
  Status update(const ProxyConfig& next);
  // The same, with the next config made by `change` from the current one while no other
  // update, start or lease expiry can run on this proxy (so a field the change does not name
  // cannot undo one made meanwhile), and a lease on `enabled: false`: nullopt leaves a running
  // lease as it is, N > 0 starts or renews one ending N ms from now, 0 ends it (the proxy stays
  // as it is). N > 0 on a proxy the change leaves enabled is refused (kInvalidArgument) and
  // changes nothing, as does an error from `change`.
  Status update(const std::function<Result<ProxyConfig>(const ProxyConfig&)>& change,
                std::optional<int64_t> lease_ms);
  // Enables the proxy again if its lease ended by `now_ns` (ToxicSet::clock_ns). One atomic
  // load when no lease is due, so a timer can call it often. True when it enabled the proxy
  // (or tried to: a failure to listen again is logged).
  bool expire_lease(int64_t now_ns);

  ProxyConfig config() const;
  ToxicSet& toxics() { return toxics_; }
  const ToxicSet& toxics() const { return toxics_; }

 private:
  struct Connection;
  Status update_locked(const ProxyConfig& next, std::optional<int64_t> lease_ms);
  void end_lease_locked();
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
  // When the lease on `enabled: false` ends (ToxicSet::clock_ns), 0 when none runs; written
  // with control_mu_ and mu_ held, read without a lock by expire_lease's first check.
  std::atomic<int64_t> lease_end_ns_{0};
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
