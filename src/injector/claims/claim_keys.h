// The scopes a fault holds on its node, from what its backend says it touches (FaultReach):
// the same answer the policy judges. Network faults hold their whole namespace (shapers on one
// namespace share qdisc trees, queues and packets), named by its inode so two spellings of one
// namespace are one scope; processes by their selector; files by their path.
#pragma once

#include <string>
#include <vector>

#include "injector/backend_registry.h"

namespace faultline::injector {

std::vector<std::string> claim_keys(const std::string& kind, const FaultReach& reach);

}  // namespace faultline::injector
