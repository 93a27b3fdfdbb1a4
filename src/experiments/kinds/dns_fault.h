// dns_fault: DNS lookups of the target's network scope get a forged answer (NXDOMAIN,
// SERVFAIL, REFUSED, chosen addresses), none at all, or the real one late, by the first rule
// the queried name matches, for a share of them.
#pragma once

#include <string>
#include <vector>

#include "common/duration.h"
#include "experiments/kinds/fault_kind.h"

namespace faultline::experiments {

struct DnsFaultRule {
  std::vector<std::string> names;
  std::string answer;  // nxdomain | servfail | refused | timeout | address | delay
  std::vector<std::string> addresses;
  Duration ttl{}, delay{}, jitter{};
  double percent = 1;
};

struct DnsFaultParams : KindParams {
  std::vector<DnsFaultRule> rules;
  std::vector<std::string> servers;  // empty: the scope's resolv.conf
  Duration drain{};
};

}  // namespace faultline::experiments
