#include "experiments/kinds/memory_pressure.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

void write(const MemoryPressureParams& p, const WireTarget&, v1::FaultSpec& out) {
  auto* m = out.mutable_memory_pressure();
  m->set_size_bytes(p.size_bytes);
  m->set_fraction(p.fraction);
  m->set_ramp_ms(kind_parts::millis(p.ramp));
  m->set_floor(p.floor);
}

FaultKind describe() {
  return {
      .name = "memory_pressure",
      .params =
          object({opt("size", size("Memory to allocate and touch.")),
                  opt("percent", percent("Or: share of total memory.", "", true)),
                  opt("ramp", duration("Reach the size over this long.", "0s")),
                  opt("floor", percent("Never leave less than this share of memory free.", "10%"))},
                 "Allocate and hold memory.", {{"size", "percent"}}),
      .needs = TargetNeeds::kNothing,
      .scope = ScopeClass::kHostMemory,
      .containers = not_on_containers("the memory would be held on the node, not charged to the "
                                      "container's cgroup (not yet supported)"),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<MemoryPressureParams>();
            p->size_bytes = v.bytes("size");
            p->fraction = v.fraction("percent");
            p->ramp = v.duration("ramp");
            p->floor = v.fraction("floor");
            return p;
          },
      .to_wire = kind_parts::wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
