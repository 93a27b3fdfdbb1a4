// Where the probes of a submitted experiment may connect. An operator token must not turn the
// controller into a proxy for the networks it can reach (SSRF): cloud metadata services and
// link-local addresses are never reachable, and a policy can narrow the rest to listed hosts.
// Names are resolved and every address checked; the probe then connects to the address that
// was checked (pinned), so a name that resolves differently a moment later gains nothing.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace faultline::controller {

struct HostRules {
  // CIDRs ("10.0.0.0/8", "fd00::/8"), addresses, names ("db.internal") or name suffixes
  // ("*.svc.cluster.local"). Empty allow: every host the deny rules and the built-in rule
  // leave.
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  // Lifts the built-in refusal of link-local addresses and cloud metadata names.
  bool link_local = false;
};

class DestinationGuard {
 public:
  // A guard that lets everything through: runs the CLI makes on its own machine.
  DestinationGuard() = default;
  // Each rule already validated by check_host_rule.
  explicit DestinationGuard(HostRules rules, std::string policy_source);

  bool restricts() const { return restricted_; }
  // Why a probe may not reach `host` (a name or an address literal), or "" when it may.
  // Names are resolved; one refused address refuses the name.
  std::string refusal(const std::string& host) const;
  // The address to connect to for `host`, checked now (a literal stays itself).
  Result<std::string> pin(const std::string& host) const;

 private:
  std::string check_name(const std::string& host) const;
  std::string check(const std::string& host, const std::vector<std::string>& addresses) const;

  bool restricted_ = false;
  HostRules rules_;
  std::string source_;
};

// "" when `rule` is a CIDR, an address, a name or "*.suffix"; else what is wrong.
std::string check_host_rule(const std::string& rule);

// The host of "scheme://[user@]host[:port]/..." or of "host:port" / "[v6]:port" ("" if none).
std::string host_of_url(const std::string& url);
std::string host_of_address(const std::string& address);

}  // namespace faultline::controller
