#include "injector/intercept/redirect_chains.h"

namespace faultline::injector::intercept {

namespace {

// A mark nothing carries: a kHold rule's match, which never takes a new connection.
constexpr uint32_t kNeverMark = 0x4641494e;

std::string port_list(const pb::NetworkScope& scope) {
  std::string out;
  for (uint32_t p : scope.ports()) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

// One family's chains. Ingress: what arrives for the service's ports (PREROUTING), and what
// local callers send to them (OUTPUT through lo); `destinations` are then the clients. Egress:
// what this namespace sends to the ports (OUTPUT). The helper's own connections carry its mark
// and pass.
std::vector<ChainSpec> family_chains(const std::string& fault_id, const pb::NetworkScope& scope,
                                     const std::string& netns, int family, uint16_t to_port,
                                     RedirectMode mode) {
  const bool ingress = scope.direction() == "ingress";
  std::vector<std::string> cidrs;
  for (const auto& d : scope.destinations())
    if ((d.find(':') != std::string::npos) == (family == 6)) cidrs.push_back(d);
  if (!scope.destinations().empty() && cidrs.empty()) return {};  // none of this family
  if (cidrs.empty()) cidrs.push_back("");
  std::vector<std::vector<std::string>> rules;
  for (const auto& cidr : cidrs) {
    std::vector<std::string> r;
    if (!cidr.empty()) r = {ingress ? "-s" : "-d", cidr};
    r.insert(r.end(), {"-p", "tcp", "-m", "multiport", "--dports", port_list(scope), "-m", "mark"});
    if (mode == RedirectMode::kRedirect)
      r.insert(r.end(), {"!", "--mark", std::to_string(kInterceptorMark)});
    else
      r.insert(r.end(), {"--mark", std::to_string(kNeverMark)});
    r.insert(r.end(), {"-j", "REDIRECT", "--to-ports", std::to_string(to_port)});
    rules.push_back(std::move(r));
  }
  ChainSpec c;
  c.netns = netns;
  c.family = family;
  c.table = "nat";
  c.rules = rules;
  std::vector<ChainSpec> out;
  if (ingress) {
    c.hook = "PREROUTING";
    if (!scope.interface().empty()) c.hook_match = {"-i", scope.interface()};
    c.chain = chain_name(fault_id, 'h', family, Direction::kIngress);
    out.push_back(c);
    c.hook = "OUTPUT";
    c.hook_match = {"-o", "lo"};  // to an address of this namespace
    c.chain = chain_name(fault_id, 'l', family, Direction::kEgress);
    out.push_back(c);
  } else {
    c.hook = "OUTPUT";
    if (!scope.interface().empty()) c.hook_match = {"-o", scope.interface()};
    c.chain = chain_name(fault_id, 'h', family, Direction::kEgress);
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<ChainSpec> redirect_chains(const std::string& fault_id, const pb::NetworkScope& scope,
                                       const std::string& netns, uint16_t to_port,
                                       RedirectMode mode) {
  std::vector<ChainSpec> out;
  for (int family : {4, 6})
    for (auto& c : family_chains(fault_id, scope, netns, family, to_port, mode))
      out.push_back(std::move(c));
  return out;
}

std::vector<ChainSpec> dns_redirect_chains(const std::string& fault_id, const std::string& netns,
                                           const pb::DnsFault& fault,
                                           const std::vector<uint16_t>& udp_ports,
                                           const std::vector<uint16_t>& tcp_ports,
                                           RedirectMode mode) {
  std::vector<ChainSpec> out;
  for (int family : {4, 6}) {
    ChainSpec c;
    c.netns = netns;
    c.family = family;
    c.table = "nat";
    c.hook = "OUTPUT";
    c.chain = chain_name(fault_id, 'd', family, Direction::kEgress);
    for (int i = 0; i < fault.servers_size() && i < static_cast<int>(udp_ports.size()) &&
                    i < static_cast<int>(tcp_ports.size());
         ++i) {
      const std::string& server = fault.servers(i);
      if ((server.find(':') != std::string::npos) != (family == 6)) continue;
      for (const char* proto : {"udp", "tcp"}) {
        std::vector<std::string> r = {
            "-d",  server + (family == 6 ? "/128" : "/32"), "-p", proto, "--dport", "53", "-m",
            "mark"};
        if (mode == RedirectMode::kRedirect)
          r.insert(r.end(), {"!", "--mark", std::to_string(kInterceptorMark)});
        else
          r.insert(r.end(), {"--mark", std::to_string(kNeverMark)});
        uint16_t to = std::string(proto) == "udp" ? udp_ports[i] : tcp_ports[i];
        r.insert(r.end(), {"-j", "REDIRECT", "--to-ports", std::to_string(to)});
        c.rules.push_back(std::move(r));
      }
    }
    if (!c.rules.empty()) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace faultline::injector::intercept
