#include "injector/intercept/dns_fault_backend.h"

#include <sys/stat.h>
#include <fstream>
#include <sstream>

#include "common/dns/dns_message.h"
#include "common/hash.h"
#include "injector/backend_registry.h"
#include "injector/intercept/redirect_chains.h"

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
