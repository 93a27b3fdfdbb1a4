#include "injector/intercept/dns_fault_backend.h"

#include <sys/stat.h>
#include <fstream>
#include <sstream>

#include "common/dns/dns_message.h"
#include "common/hash.h"
#include "common/log.h"
#include "injector/backend_registry.h"
#include "injector/intercept/redirect_chains.h"
#include "injector/network/conntrack_flows.h"
#include "injector/network/netns.h"

namespace faultline::injector {

namespace {

// Where `ip netns exec NAME` (and so a program of that namespace) reads its resolver
// configuration: /etc/netns/NAME/resolv.conf when there is one, else the host's.
std::string resolv_conf_of(const std::string& netns) {
  if (!netns.empty() && netns.find('/') == std::string::npos) {
    std::string own = "/etc/netns/" + netns + "/resolv.conf";
    struct stat st {};
    if (::stat(own.c_str(), &st) == 0) return own;
  }
  return "/etc/resolv.conf";
}

}  // namespace

std::vector<std::string> resolv_conf_servers(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line) && out.size() < 3;) {
    std::istringstream words(line);
    std::string key, value;
    if (words >> key >> value && key == "nameserver" && dns::valid_address(value))
      out.push_back(value);
  }
  return out;
}

std::string DnsFaultBackend::describe_queries(const pb::InterceptorReport& r) {
  std::string out = std::to_string(r.queries()) + " quer" + (r.queries() == 1 ? "y" : "ies");
  if (r.tcp_queries()) out += " (" + std::to_string(r.tcp_queries()) + " over TCP)";
  std::string parts;
  auto add = [&](uint64_t n, const std::string& what) {
    if (n) parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(r.forged(), "answered by the rules");
  add(r.dropped(), "left unanswered");
  add(r.delayed_queries(), "delayed");
  add(r.forwarded() - std::min(r.forwarded(), r.delayed_queries()), "forwarded unchanged");
  if (!parts.empty()) out += ": " + parts;
  if (r.malformed()) out += "; " + std::to_string(r.malformed()) + " not readable, forwarded";
  if (r.upstream_errors())
    out += "; " + std::to_string(r.upstream_errors()) + " upstream error" +
           (r.upstream_errors() == 1 ? "" : "s");
  return out;
}

Result<InterceptingBackend::Plan> DnsFaultBackend::plan(const pb::FaultSpec& spec) {
  const auto& f = spec.dns_fault();
  Plan p;
  p.scope = f.scope();
  *p.start.mutable_dns() = f;
  if (f.servers().empty()) {
    if (f.scope().has_container())
      return make_error(ErrorCode::kInvalidArgument,
                        "dns_fault on a container or pod target needs params.servers (its "
                        "resolver configuration is inside the container)");
    std::string path = resolv_conf_of(f.scope().netns());
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    for (const auto& s : resolv_conf_servers(text.str())) p.start.mutable_dns()->add_servers(s);
    if (p.start.dns().servers().empty())
      return make_error(ErrorCode::kNotFound, path + " names no nameserver: give params.servers");
  }
  if (f.seed() == 0) p.start.mutable_dns()->set_seed(fnv1a(spec.ShortDebugString()));
  std::string servers;
  for (const auto& s : p.start.dns().servers()) servers += (servers.empty() ? "" : ", ") + s;
  p.summary = "intercepting DNS to " + servers +
              (f.scope().netns().empty() ? "" : " in netns " + f.scope().netns()) + ", " +
              std::to_string(f.rules_size()) + " rule" + (f.rules_size() == 1 ? "" : "s");
  return p;
}

std::vector<ChainSpec> DnsFaultBackend::chains(const std::string& fault_id, const Plan& p,
                                               const pb::InterceptorReport& ports) {
  return intercept::dns_redirect_chains(fault_id, p.scope.netns(), p.start.dns(),
                                        {ports.udp_ports().begin(), ports.udp_ports().end()},
                                        {ports.tcp_ports().begin(), ports.tcp_ports().end()},
                                        intercept::RedirectMode::kRedirect);
}

// A resolver that keeps one UDP socket has a conntrack entry from before the rules, which goes
// on straight to the server (conntrack_flows.h): forgotten, its next query is redirected like
// any other. Done here, before apply returns, so that no query of the run slips past.
std::string DnsFaultBackend::after_rules_in(const std::string& netns_path, const Plan& plan) {
  ScopedNetns in(netns_path);
  if (!in.ok()) return "";
  auto n = forget_dns_flows(UdpFlowFilter::kDirect,
                            {plan.start.dns().servers().begin(), plan.start.dns().servers().end()});
  if (!n) {
    spdlog::warn("dns_fault: open UDP flows not moved onto the rules netns={} error=\"{}\"",
                 netns_path, n.error().message);
    return "; UDP flows open before the fault not moved onto it (" + n.error().message + ")";
  }
  if (*n == 0) return "";
  return "; " + std::to_string(*n) + " UDP flow" + (*n == 1 ? "" : "s") +
         " open before the fault moved onto it";
}

// The helper releases the flows it was sent when it exits (conntrack_flows.h); without it, a
// resolver socket's flow would lead to its closed port until conntrack forgets it. Its ports
// are not known here: any flow to port 53 redirected elsewhere is released (the next packet is
// NATed afresh by whatever rules are still there).
std::function<void()> DnsFaultBackend::after_rules_out(const std::string& netns_path,
                                                       const pb::FaultSpec& spec) const {
  std::vector<std::string> servers(spec.dns_fault().servers().begin(),
                                   spec.dns_fault().servers().end());
  return [netns_path, servers] {
    ScopedNetns in(netns_path);
    if (!in.ok()) return;  // the namespace went, and its conntrack table with it
    if (auto n = forget_dns_flows(UdpFlowFilter::kRedirected, servers); !n)
      spdlog::warn("dns_fault: redirected UDP flows not released netns={} error=\"{}\"", netns_path,
                   n.error().message);
    else if (*n)
      spdlog::info("dns_fault: released redirected UDP flows netns={} count={}", netns_path, *n);
  };
}

namespace {

BackendRegistration describe() {
  return {.kind = "dns_fault",
          .make = [](BackendContext&) { return std::make_unique<DnsFaultBackend>(); },
          .reach =
              [](const pb::FaultSpec& spec) {
                return FaultReach{.networks = {spec.dns_fault().scope()}};
              }};
}

}  // namespace
FAULTLINE_REGISTER_BACKEND(describe);

}  // namespace faultline::injector
