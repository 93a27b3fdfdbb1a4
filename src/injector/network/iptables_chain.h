// Chains faultline owns in a namespace's iptables, legacy (x_tables) or nft (nf_tables).
// Every rule a fault installs lives in its own chain, hooked into a built-in chain by one
// jump at the top; removing the fault removes the jump and the chain, so nothing else in the
// user's ruleset is touched, and a chain name alone is enough to clean up after a crash.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "injector/network/traffic_scope.h"

namespace faultline::injector {

// Where new chains are made: $FAULTLINE_IPTABLES ("legacy", "nf_tables" or "nft") if set,
// else legacy x_tables where the kernel has them, else "nf_tables", else iptables-nft
// processes. Both "legacy" (libiptc, xt_ruleset.h) and "nf_tables" (netlink, nft_ruleset.h)
// are programmed in-process, ~0.05-0.1 ms to apply or revert; "nft" spawns an iptables-nft
// process per change (~3.4 ms / ~25 ms) and is kept for kernels neither takes.
inline constexpr const char* kInProcess = "nf_tables";
const std::string& iptables_flavour();

struct ChainSpec {
  std::string flavour = iptables_flavour();
  std::string netns;  // "" = the injector's own
  int family = 4;
  std::string table;                    // "mangle", "filter"
  std::string hook;                     // built-in chain: "POSTROUTING", "INPUT", ...
  std::vector<std::string> hook_match;  // e.g. {"-o", "veth0"}: narrows the jump
  std::string chain;                    // at most 28 characters
  // Each rule's matches followed by its target, e.g. {..., "-j", "DROP"}.
  std::vector<std::vector<std::string>> rules;
};

// Creates the chain with its rules and hooks it in, in one transaction (no packet sees a
// half-built chain).
Status install_chain(const ChainSpec& spec);

// Adds each chain of `specs` to `install`'s record (what removal needs), installing nothing.
void record_chains(const std::vector<ChainSpec>& specs, pb::NetworkInstall& install);

// Records every chain in `install` first (so a crash half way is still cleaned up), then
// installs them concurrently (each commit waits on the kernel, not on the CPU). On failure
// whatever was created is removed again.
Status install_chains(const std::vector<ChainSpec>& specs, pb::NetworkInstall& install);

// Puts `specs` in place of the live chains of the same names, each table in one transaction
// (no packet sees neither), and on failure leaves the live ones as they were: for swapping a
// fault's rules while it holds connections. In-process flavours only; others are left alone.
Status replace_chain_rules(const std::vector<ChainSpec>& specs);

// Unhooks, flushes and deletes `chain`. Idempotent: a chain (or a namespace) that is no
// longer there is success.
// With the jump's `hook` and `hook_match` known, one transaction; without (or if that fails
// because part is already gone), the ruleset is listed first. flavour "" = both (crash
// recovery from a spec alone, which cannot know).
Status remove_chain(const std::string& flavour, const std::string& netns, int family,
                    const std::string& table, const std::string& chain,
                    const std::string& hook = "", const std::vector<std::string>& hook_match = {});

// Whether the chain exists in either flavour (for tests and crash recovery checks).
bool chain_exists(const std::string& netns, int family, const std::string& table,
                  const std::string& chain);

// Removes every chain an install record lists. A whole fault's revert goes through
// remove_installed (network_install.h), which first checks the namespace is still the one.
Status remove_recorded_chains(const pb::NetworkInstall& install);

// The chain a fault uses for one purpose ('q' queue, 'p' partition), family and direction,
// stable across restarts: "fl-<8 hex>-q4o".
std::string chain_name(const std::string& fault_id, char purpose, int family, Direction dir);

// Records every chain a fault of this purpose may have made (both families and directions),
// for crash recovery that knows only the fault's id; removal skips the ones never made.
void add_possible_chains(pb::NetworkInstall& install, const std::string& fault_id,
                         const std::string& table, char purpose);

}  // namespace faultline::injector
