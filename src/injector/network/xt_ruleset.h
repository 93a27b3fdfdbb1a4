// Faultline's chains in x_tables (the kernel side of iptables-legacy), programmed in-process
// through libiptc: no iptables-legacy-restore process on the apply or revert path (that
// process alone cost ~1.7 ms, 2.5 ms with the wait for it). Same shape as the process path:
// each fault's rules in their own chain, hooked in by one jump at the top of a built-in chain,
// all of a family's and table's chains in one commit, so no packet sees half a chain.
//
// libiptc reads the whole table, changes it in memory and replaces it in one setsockopt; the
// kernel refuses a replace based on a table that changed meanwhile (EAGAIN), which is retried.
// iptables' own lock (/run/xtables.lock) is held from read to replace, as iptables-legacy
// does, so faultline and any iptables on the node never overwrite each other's changes.
// The rules come in iptables' words and go through parse_iptables_rule (iptables_rule.h).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "injector/network/iptables_chain.h"

namespace faultline::injector {

// Whether libiptc can read this kernel's x_tables (the mangle table; probed once).
bool xt_available();

// For a process that can no longer open iptables' lock file (faultline-intercept, confined):
// the lock file opened beforehand, used for every transaction from then on.
void xt_use_lock_file(int fd);

// Creates each spec's chain with its rules and its jump (all specs in one netns): one commit
// per family and table. A chain of the same name left by a crash is replaced.
Status xt_install(const std::vector<ChainSpec>& specs);

struct XtChain {
  int family = 4;
  std::string table;
  std::string chain;
};

// Removes every jump to each chain (wherever it is), flushes and deletes the chain: one commit
// per family and table. Idempotent: chains already gone are success.
Status xt_remove(const std::string& netns, const std::vector<XtChain>& chains);

}  // namespace faultline::injector
