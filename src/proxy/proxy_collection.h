// Every proxy of one `faultline proxy` process, by name: what the Toxiproxy-compatible API
// (toxiproxy_api.h) acts on. Errors carry the code the API answers with: kNotFound (404),
// kFailedPrecondition for a name already taken (409), kInvalidArgument for a bad body (400).
// It also ends the leases that ran out (Faultline's lease_ms), on a thread of its own: a
// toxic's is removed, a disabled proxy's is enabled again.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "proxy/lease_sweeper.h"
#include "proxy/tcp_proxy.h"

namespace faultline::proxy {

class ProxyCollection {
 public:
  // Creates and starts a proxy from {name, listen, upstream, enabled} (a lease_ms is refused:
  // leases start with an update).
  Result<nlohmann::json> create(const nlohmann::json& body);
  // Creates each proxy, or replaces one of the same name whose listen or upstream differs
  // (one with the same addresses is kept, toxics and connections included), as Toxiproxy's
  // /populate does. Stops at the first error, reporting what was done before it.
  Result<nlohmann::json> populate(const nlohmann::json& body);
  // Changes listen, upstream, enabled given in the body, and a lease on `enabled: false`
  // (`lease_ms`, see TcpProxy::update; bad values and a lease on a proxy left enabled are
  // kInvalidArgument).
  Result<nlohmann::json> update(const std::string& name, const nlohmann::json& body);
  Status remove(const std::string& name);
  // Every proxy enabled again and every toxic removed.
  void reset();

  Result<nlohmann::json> show(const std::string& name) const;
  nlohmann::json all() const;  // {name: proxy, ...}
  std::shared_ptr<TcpProxy> find(const std::string& name) const;

  static nlohmann::json proxy_json(const TcpProxy& p);

 private:
  Result<ProxyConfig> config_from(const nlohmann::json& body, const ProxyConfig* base) const;
  void expire_leases();

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<TcpProxy>> proxies_;
  // Every 20 ms: a lease ends at most that late. Last, so that it stops (joined) before the
  // proxies it looks at are destroyed.
  LeaseSweeper leases_{std::chrono::milliseconds(20), [this] { expire_leases(); }};
};

}  // namespace faultline::proxy
