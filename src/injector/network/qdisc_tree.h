// Shaping with kernel qdiscs through rtnetlink (libnl-route, no `tc`): netem for delay/loss/
// duplicate/corrupt/reorder, tbf or htb for bandwidth. Unscoped, the leaf is the interface's
// root qdisc; scoped (CIDRs, ports, protocol), the root is an HTB whose default class passes
// traffic untouched and whose second class holds the leaf, selected by u32 filters.
//
// Every root faultline installs has the handle fa17:, which is how a crashed injector's qdisc
// is found again. The kernel's default root (handle 0:, e.g. noqueue or fq_codel) is what a
// revert gives back: deleting our root makes the kernel re-create it. A root somebody else
// configured is never replaced — the fault is refused, naming it.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "faultline/v1/faults.pb.h"
#include "injector/network/impairment.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

inline constexpr uint32_t kFaultlineRootHandle = 0xFA170000;  // fa17:

struct QdiscLeaf {
  std::string kind;                                         // "netem", "tbf" or "htb"
  ImpairmentSpec netem;                                     // for netem
  uint64_t rate_bps = 0, burst_bytes = 0, limit_bytes = 0;  // for tbf/htb
};

struct InstalledQdisc {
  int ifindex = 0;
  uint32_t handle = 0;
  bool scoped = false;
};

// Installs the tree on the interface's egress. Refuses a root qdisc it did not install.
Result<InstalledQdisc> install_qdisc(const std::string& netns, const std::string& ifname,
                                     const QdiscLeaf& leaf, const pb::NetworkScope& scope);
// Replaces the netem leaf's parameters in place (faults composed on one scope).
Status change_netem(const std::string& netns, const std::string& ifname, bool scoped,
                    const ImpairmentSpec& spec);
// Deletes faultline's root on the interface, if it is there. Idempotent; a vanished
// interface or namespace is success.
Status remove_qdisc(const std::string& netns, int ifindex);

// "netem 1: root" style description of the interface's root qdisc (kind and handle).
struct RootQdisc {
  std::string kind;
  uint32_t handle = 0;
};
Result<RootQdisc> root_qdisc(const std::string& netns, const std::string& ifname);

// Whether this kernel can create a netem qdisc: tried on the loopback of a scratch namespace
// that lives only as long as the probe.
bool netem_available();

}  // namespace faultline::injector
