// Resolves a ProcessSelector to concrete processes, enforcing the guard rails that no
// experiment can switch off: never PID 1, never this injector, never a kernel thread.
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/process_table.h"
#include "common/result.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector {

namespace pb = ::faultline::v1;

struct SelectorGuard {
  // PIDs that must never be touched besides PID 1 (the injector itself, its parent
  // controller when embedded). Filled by default with getpid().
  std::vector<pid_t> protected_pids;
  static SelectorGuard for_this_process();
};

// All processes matching the selector, after guard rails. A selector that matches only
// protected processes is refused with kPermissionDenied; one that matches nothing gives
// kNotFound. `select` picks how many of them, at random.
Result<std::vector<ProcessInfo>> resolve_processes(const pb::ProcessSelector& selector,
                                                   const pb::ProcessSelection& select,
                                                   const SelectorGuard& guard);

// Why the guard rails keep `p` out of reach ("" when they do not): PID 1, this injector, a
// kernel thread, or (unless `container_target`) the init of a PID namespace.
std::string guard_reason(const ProcessInfo& p, const SelectorGuard& guard, bool container_target);

// "name=nginx", "pidfile=/run/x.pid", ... for messages.
std::string describe(const pb::ProcessSelector& selector);

}  // namespace faultline::injector
