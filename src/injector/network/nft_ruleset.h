// Faultline's rules in nf_tables, programmed in-process over netlink: no iptables process on
// the apply or revert path. Each ChainSpec becomes its own table (named like the chain,
// "fl-<8 hex>-p4o") holding one base chain on the spec's hook with the spec's rules, so a
// fault owns its tables outright: removing one is a single DELTABLE, nothing in the user's
// ruleset (iptables-nft's tables included) is touched, and a name alone is enough to clean up
// after a crash. A whole fault goes in (and out) in one nf_tables transaction.
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

struct NftTable {
  int family = 4;
  std::string name;
};

// Whether this kernel takes nf_tables transactions from us (probed once).
bool nft_netlink_available();

// Creates every spec's table, chain and rules in one transaction (all specs in one netns).
// A table of the same name left by a crash is replaced.
Status nft_install(const std::vector<ChainSpec>& specs);

// Deletes those of `tables` that exist in one transaction. Idempotent: a table (or a
// namespace) that is gone is success.
Status nft_remove(const std::string& netns, const std::vector<NftTable>& tables);

// Empties each table's chain (`chain`: the lower-case hook name, as nft_install named it)
// without unhooking it: packets a queue holds stay valid. Deleting a base chain unhooks it,
// and the kernel then drops every packet still queued from that hook (nf_queue_nf_hook_drop),
// so a delay's revert first empties, then lets the engine release what it holds, then
// deletes.
Status nft_flush(const std::string& netns, const std::vector<NftTable>& tables,
                 const std::vector<std::string>& hooks);

bool nft_table_exists(const std::string& netns, int family, const std::string& name);

}  // namespace faultline::injector
