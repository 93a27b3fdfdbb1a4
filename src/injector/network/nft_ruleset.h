// Faultline's rules in nf_tables, programmed in-process over netlink: no iptables process on
// the apply or revert path. One table per family and namespace, `faultline`, holds a base
// chain per hook and priority ("postrouting-mangle", "input-filter", ...), created on first use
// and kept while any rule is in it; each rule carries its fault's chain name as a comment
// ("fl-<8 hex>-p4o"), which is what removal and crash recovery find it by. A fault's rules go
// in, and out, in one transaction, and only rules come and go on the hot path: adding and
// deleting hooked chains is what makes nf_tables commits wait on the kernel (~10 ms here).
// Deleting rules never unhooks anything, so packets a queue holds stay valid. The table is
// removed half a second after it became empty, only if it still is.
//
// The rules arrive in iptables' words (ChainSpec) and are translated for the small vocabulary
// faultline writes: -o/-i [!], -d/-s CIDR, -p, --dport/--sport, -m multiport, -m mark [!]
// --mark, -j DROP, -j NFQUEUE (through nft_compat's xt target: kernels without nft_queue
// still take it). Anything else is an error, never silently dropped.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "injector/network/iptables_chain.h"

namespace faultline::injector {

// A fault's rules of one family, by their tag (the ChainSpec's chain name).
struct NftTable {
  int family = 4;
  std::string name;
};

// Whether this kernel takes nf_tables transactions from us (probed once).
bool nft_netlink_available();

// Adds every spec's rules (and the table and base chains they need) in one transaction (all
// specs in one netns). Rules with the same tag left by a crash are replaced.
Status nft_install(const std::vector<ChainSpec>& specs);

// Deletes every rule with one of these tags in one transaction. Idempotent: rules (or a
// namespace) already gone are success.
Status nft_remove(const std::string& netns, const std::vector<NftTable>& tags);

bool nft_rules_exist(const std::string& netns, int family, const std::string& tag);

}  // namespace faultline::injector
