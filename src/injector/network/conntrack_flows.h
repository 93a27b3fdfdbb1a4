// Forgetting conntrack entries of UDP flows, so that their next packet is looked at by the nat
// rules again. A NAT decision is taken once per flow, on its first packet: a resolver that
// keeps one UDP socket (one source port) for all its queries would otherwise go on reaching its
// server directly after dns_fault's REDIRECT went in, and reach the gone interceptor after it
// came out, until the entry times out (30 s and more). Deleting an entry loses nothing: the
// next packet makes a new one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace faultline::injector {

struct UdpFlowFilter {
  enum Which {
    kDirect,      // not redirected: the flows a REDIRECT that just went in did not catch
    kRedirected,  // destination-NATed to a local port: the flows a removed REDIRECT left
  };
  Which which = kDirect;
  uint16_t port = 53;                // the original destination port
  std::vector<std::string> servers;  // original destinations (literals); empty = any
  // kRedirected: only flows sent to one of these ports (the interceptor's); empty = any port
  // but `port`.
  std::vector<uint16_t> redirected_to;
};

// Deletes the matching entries of the calling thread's network namespace (IPv4 and IPv6);
// returns how many went. At most kMaxForgotten per call: more would be a table this tool did
// not fill.
inline constexpr size_t kMaxForgotten = 65536;
Result<size_t> forget_udp_flows(const UdpFlowFilter& filter);

// dns_fault's use of it: the flows to `servers` on port 53 of one kind (kRedirected: to
// `redirected_to`, or anywhere but port 53 when that is empty).
Result<size_t> forget_dns_flows(UdpFlowFilter::Which which, std::vector<std::string> servers,
                                std::vector<uint16_t> redirected_to = {});

}  // namespace faultline::injector
