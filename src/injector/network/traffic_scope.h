// Which packets a network fault touches, as netfilter matches. One scope becomes several
// rules: one per address family, destination CIDR and protocol, because iptables matches
// one of each per rule.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

struct ScopeRule {
  int family = 4;                  // 4 (iptables) or 6 (ip6tables)
  std::vector<std::string> match;  // e.g. {"-d", "10.0.0.0/24", "-p", "tcp", "--dport", "80"}
};

enum class Direction { kEgress, kIngress };

// The matches for traffic leaving (egress: to destinations/ports) or arriving (ingress: from
// them). Fails on a malformed CIDR, or ports with a protocol that has none.
Result<std::vector<ScopeRule>> scope_rules(const pb::NetworkScope& scope, Direction dir);

// Which directions a direction word ("egress", "ingress", "both"; "" = egress) names.
std::vector<Direction> directions(const std::string& word);

// "tcp to 10.0.0.0/24 port 80 via veth0 in netns a" — for summaries and errors.
std::string describe_scope(const pb::NetworkScope& scope, const std::string& direction);

// Whether two scopes name exactly the same traffic (faults on them may be composed).
bool same_traffic(const pb::NetworkScope& a, const pb::NetworkScope& b);

}  // namespace faultline::injector
