// A client of a Toxiproxy-style API on this node's loopback, for proxy_toxic: add, renew and
// remove a toxic, take a proxy down (with a lease, renewed) and up, read a toxic's counts. The
// address is checked to be a loopback literal again here (the spec may come from a remote
// submission); answers are read up to a bound, and every call has a short timeout, so a
// hostile or hung listener on the port costs the injector a second, not its memory or a thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/proxy_api_address.h"
#include "common/result.h"

namespace faultline::injector {

class ProxyApiClient {
 public:
  static Result<ProxyApiClient> connect_to(const std::string& api);

  // POST /proxies/{proxy}/toxics.
  Status add_toxic(const std::string& proxy, const nlohmann::json& body) const;
  // POST /proxies/{proxy}/toxics/{toxic} {"lease_ms": N}: Faultline's lease extension.
  Status renew_toxic(const std::string& proxy, const std::string& toxic, uint64_t lease_ms) const;
  // DELETE; a toxic or proxy already gone is success (revert is idempotent).
  Status remove_toxic(const std::string& proxy, const std::string& toxic) const;
  // The proxy's `enabled`, or an error naming why it could not be read.
  Result<bool> enabled(const std::string& proxy) const;
  // POST /proxies/{proxy} {"enabled": ...}; with lease_ms > 0 (and enabled false) also
  // {"lease_ms": N}, Faultline's lease on a disabled proxy: sent again, it renews the lease.
  // Enabling a proxy that is gone is success.
  Status set_enabled(const std::string& proxy, bool enabled, uint64_t lease_ms = 0) const;
  // GET /proxies/{proxy}/toxics/{toxic}/counts; nullopt when the proxy has no such route
  // (Toxiproxy itself).
  std::optional<nlohmann::json> counts(const std::string& proxy, const std::string& toxic) const;

  const std::string& api() const { return api_; }

 private:
  struct Answer {
    int status = 0;
    std::string body;
  };
  ProxyApiClient(std::string api, LoopbackEndpoint at) : api_(std::move(api)), at_(std::move(at)) {}
  Result<Answer> call(const char* method, const std::string& path,
                      const std::string& body = "") const;
  // The proxy's own message for a failed call ("proxy not found"), with its status.
  Status refused(const char* what, const Answer& a) const;

  std::string api_;
  LoopbackEndpoint at_;
};

}  // namespace faultline::injector
