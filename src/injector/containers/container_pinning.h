// Turns the container and pod selectors inside a fault into what the backends already know:
// a network namespace path for a NetworkScope, the container cgroups for a ProcessSelector.
// The fault engine does it before the policy looks and before the ledger records the fault,
// so revert works from the record alone even when the container restarted or its pod is gone.
#pragma once

#include <vector>

#include "injector/containers/container_runtimes.h"

namespace faultline::injector {

// Whether any selector in the spec names a container or pod.
bool names_containers(const pb::FaultSpec& spec);

// Resolves every container selector in `spec` in place, returning what each resolved to. A
// network scope must resolve to exactly one pod or container (its namespace); a process
// selector to one or more (their processes). Nothing matching is kNotFound, unless the process
// selector says on_empty: skip.
Result<std::vector<pb::TouchedContainer>> pin_containers(pb::FaultSpec& spec,
                                                         ContainerRuntimes& runtimes);

}  // namespace faultline::injector
