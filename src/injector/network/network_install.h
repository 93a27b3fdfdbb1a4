// Taking back what a network fault installed, from its record alone (see NetworkInstall in
// faults.proto): its iptables chains and its root qdisc. Shared by every network backend's
// revert and crash recovery.
#pragma once

#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

// Idempotent. A namespace that was removed or replaced since (its inode differs) took what
// was installed with it, and nothing is touched in the new one.
Status remove_installed(const ::faultline::v1::NetworkInstall& install);

}  // namespace faultline::injector
