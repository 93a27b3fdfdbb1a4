// One rule of a faultline chain, parsed from the iptables arguments a ChainSpec carries. The
// in-process backends (nf_tables over netlink, x_tables through libiptc) build their rules
// from this, so both understand exactly the same small vocabulary: -o/-i [!], -d/-s [!] CIDR,
// -p tcp|udp|icmp|ipv6-icmp, --dport/--sport and -m multiport --dports/--sports, -m mark [!]
// --mark, -j DROP, -j NFQUEUE --queue-num/--queue-balance [--queue-bypass], -j REDIRECT
// --to-ports N (the nat table). Anything else is an error naming the argument, never silently
// dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace faultline::injector {

struct RuleMatch {
  enum Kind { kIface, kAddr, kProto, kMark } kind = kIface;
  bool negate = false;
  bool out = false;                       // -o / -d (else -i / -s)
  std::string text;                       // interface name
  std::vector<unsigned char> addr, mask;  // network order, 4 or 16 bytes
  uint8_t proto = 0;
  uint32_t mark = 0;
};

struct ParsedRule {
  std::vector<RuleMatch> matches;
  uint8_t proto = 0;            // the -p protocol, 0 = none (what --dport needs)
  std::vector<uint16_t> ports;  // any of these: one kernel rule each
  bool port_out = true;         // --dport (else --sport)
  bool queue = false;           // -j NFQUEUE, else -j DROP
  uint16_t queue_num = 0, queue_total = 1;
  bool bypass = false;
  uint16_t redirect_port = 0;  // -j REDIRECT --to-ports N; 0 = not a redirect
};

// `backend` prefixes the errors ("nf_tables", "x_tables").
Result<ParsedRule> parse_iptables_rule(const std::vector<std::string>& args, int family,
                                       const char* backend);

}  // namespace faultline::injector
