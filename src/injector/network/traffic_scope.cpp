#include "injector/network/traffic_scope.h"

#include <arpa/inet.h>

#include <algorithm>

#include "fmt/format.h"
#include "fmt/ranges.h"

namespace faultline::injector {

namespace {

// 4 or 6 for a valid CIDR (or bare address), 0 otherwise.
int cidr_family(const std::string& cidr) {
  std::string addr = cidr.substr(0, cidr.find('/'));
  unsigned char buf[16];
  int family = 0;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) family = 4;
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) family = 6;
  if (family == 0) return 0;
  if (auto slash = cidr.find('/'); slash != std::string::npos) {
    std::string len = cidr.substr(slash + 1);
    if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit)) return 0;
    if (std::stoi(len) > (family == 4 ? 32 : 128)) return 0;
  }
  return family;
}

}  // namespace

std::vector<Direction> directions(const std::string& word) {
  if (word == "ingress") return {Direction::kIngress};
  if (word == "both") return {Direction::kEgress, Direction::kIngress};
  return {Direction::kEgress};
}

Result<std::vector<ScopeRule>> scope_rules(const pb::NetworkScope& scope, Direction dir) {
  const bool out = dir == Direction::kEgress;
  std::vector<std::pair<int, std::string>> cidrs;  // family, cidr ("" = any)
  for (const auto& c : scope.destinations()) {
    int family = cidr_family(c);
    if (family == 0)
      return make_error(ErrorCode::kInvalidArgument, "not an IP address or CIDR: \"" + c + "\"");
    cidrs.emplace_back(family, c);
  }
  if (cidrs.empty()) cidrs = {{4, ""}, {6, ""}};

  std::string proto = scope.protocol().empty() ? "all" : scope.protocol();
  if (proto != "all" && proto != "tcp" && proto != "udp" && proto != "icmp")
    return make_error(ErrorCode::kInvalidArgument, "unknown protocol \"" + proto + "\"");
  if (proto == "icmp" && scope.ports_size() > 0)
    return make_error(ErrorCode::kInvalidArgument, "icmp has no ports; drop ports or the protocol");
  // Ports need a protocol that has them; "all" with ports means both of those.
  std::vector<std::string> protos{proto};
  if (proto == "all")
    protos = scope.ports_size() > 0 ? std::vector<std::string>{"tcp", "udp"}
                                    : std::vector<std::string>{""};
  std::string ports;
  for (auto p : scope.ports()) {
    if (p == 0 || p > 65535)
      return make_error(ErrorCode::kInvalidArgument, fmt::format("port {} is out of range", p));
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  }

  std::vector<ScopeRule> rules;
  for (const auto& [family, cidr] : cidrs) {
    for (const auto& p : protos) {
      ScopeRule r{family, {}};
      if (!cidr.empty()) r.match.insert(r.match.end(), {out ? "-d" : "-s", cidr});
      if (!p.empty())
        r.match.insert(r.match.end(), {"-p", p == "icmp" && family == 6 ? "ipv6-icmp" : p});
      if (!ports.empty()) {
        if (scope.ports_size() == 1) {
          r.match.insert(r.match.end(), {out ? "--dport" : "--sport", ports});
        } else {
          r.match.insert(r.match.end(), {"-m", "multiport", out ? "--dports" : "--sports", ports});
        }
      }
      rules.push_back(std::move(r));
    }
  }
  return rules;
}

std::string describe_scope(const pb::NetworkScope& scope, const std::string& direction) {
  std::string dir = direction.empty() ? "egress" : direction;
  std::string out =
      scope.protocol().empty() || scope.protocol() == "all" ? "traffic" : scope.protocol();
  if (scope.destinations_size() > 0)
    out += fmt::format(" {} {}", dir == "ingress" ? "from" : (dir == "both" ? "with" : "to"),
                       fmt::join(scope.destinations(), ", "));
  if (scope.ports_size() > 0)
    out += fmt::format(" port{} {}", scope.ports_size() > 1 ? "s" : "",
                       fmt::join(scope.ports(), ", "));
  out += " (" + dir + ")";
  if (!scope.interface().empty()) out += " via " + scope.interface();
  if (!scope.netns().empty()) out += " in netns " + scope.netns();
  return out;
}

bool same_traffic(const pb::NetworkScope& a, const pb::NetworkScope& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

}  // namespace faultline::injector
