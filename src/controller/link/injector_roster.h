// Every node the controller knows: the injectors connected now (the registry) and, on request,
// the ones that registered before and are gone (the store), each with its state, so an
// operator sees which nodes a run cannot reach, not only the ones it can.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/link/injector_registry.h"
#include "controller/store/run_store.h"
#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

// Sorted by node name. `store` may be null (nothing is known beyond the live links).
std::vector<::faultline::v1::InjectorInfo> injector_roster(const InjectorRegistry& registry,
                                                           const InjectorStore* store,
                                                           bool include_offline,
                                                           int64_t now_unix_ms);

// Labels as the store keeps them: "k=v,k=v", keys sorted.
std::string join_labels(const std::map<std::string, std::string>& labels);
std::map<std::string, std::string> split_labels(const std::string& joined);
// Lists (capabilities) as the store keeps them: "a,b,c".
std::string join_list(const std::vector<std::string>& items);
std::vector<std::string> split_list(const std::string& joined);

}  // namespace faultline::controller
