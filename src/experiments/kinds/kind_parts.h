// Pieces several fault kinds share: schema parts, readers and wire helpers. A kind file
// uses these so that two kinds with the same key spell, default and send it the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/kinds/fault_kind.h"
#include "experiments/model.h"
#include "experiments/schema_builders.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::experiments::kind_parts {

// mode/count/percent: how many of the matching `what` a fault or target hits.
std::vector<Property> selection_props(const std::string& what);
// The selection keys of a process fault, followed by the kind's own keys.
std::vector<Property> process_selection_props(std::vector<Property> own);
Selection read_selection(const ParamValues& p);
v1::ProcessSelection selection_to_wire(const Selection& s);

// The container part of a target's selector (and its on_empty), for kinds that act on a
// container as a whole (charged to its cgroups) rather than on chosen processes.
v1::ProcessSelector container_only(const v1::ProcessSelector& s);
// For those kinds: an error when the target narrows the container to some processes.
void check_whole_container(const std::string& kind, const TargetSpec* t, KindProblems& problems);

// `backend`: which injector mechanism applies the fault.
Property backend_prop(std::vector<std::string> values, std::string def);
// The `backend` of packet-shaping kinds (netem or the user-space nfqueue engine).
Property shaping_backend_prop();
Property correlation_prop();

uint64_t micros(Duration d);
uint32_t millis(Duration d);

// Registers a kind whose params struct is `P`: the reader and wire writer get the struct.
template <typename P>
std::function<void(const KindParams&, const WireTarget&, v1::FaultSpec&)> wire(
    void (*write)(const P&, const WireTarget&, v1::FaultSpec&)) {
  return [write](const KindParams& p, const WireTarget& t, v1::FaultSpec& out) {
    write(static_cast<const P&>(p), t, out);
  };
}
template <typename P>
std::function<std::string(const KindParams&)> backend_of() {
  return [](const KindParams& p) { return static_cast<const P&>(p).backend; };
}

}  // namespace faultline::experiments::kind_parts
