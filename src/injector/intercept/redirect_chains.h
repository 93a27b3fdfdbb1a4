// The nat REDIRECT chains of an http_fault or a dns_fault, built from its scope alone, so that the
// injector (to apply) and the helper (to take them back, also after its injector died) make the
// same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "injector/network/iptables_chain.h"

namespace faultline::injector::intercept {

// The mark on the helper's own upstream connections; the REDIRECT rules skip it.
inline constexpr uint32_t kInterceptorMark = 0x46414955;

enum class RedirectMode {
  kRedirect,  // the scope's new connections go to the helper's port
  // Nothing new is redirected, yet the chain still holds a REDIRECT target. Why: conntrack
  // (and with it the reverse NAT of connections already redirected) stays on in a namespace
  // only while some rule needs it; removing the last REDIRECT turns it off and every
  // connection still open through the helper breaks (the client never hears back). So a
  // revert first swaps in these rules, drains the helper's connections, then removes them.
  kHold,
};

// Every chain (both families) for `fault_id`'s scope; `netns` is where they go ("" = here).
std::vector<ChainSpec> redirect_chains(const std::string& fault_id, const pb::NetworkScope& scope,
                                       const std::string& netns, uint16_t to_port,
                                       RedirectMode mode);

// dns_fault's chains: per server (in the fault's order), its UDP and TCP queries to port 53
// go to the helper's ports for that server.
std::vector<ChainSpec> dns_redirect_chains(const std::string& fault_id, const std::string& netns,
                                           const pb::DnsFault& fault,
                                           const std::vector<uint16_t>& udp_ports,
                                           const std::vector<uint16_t>& tcp_ports,
                                           RedirectMode mode);

}  // namespace faultline::injector::intercept
