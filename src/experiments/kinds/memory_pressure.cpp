#include "experiments/kinds/memory_pressure.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

void write(const MemoryPressureParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_memory_pressure();
  // On a pod or container: charged to its cgroups, resolved by the injector.
  if (t.selector.has_container())
    *m->mutable_in_container() = kind_parts::container_only(t.selector);
  m->set_size_bytes(p.size_bytes);
  m->set_fraction(p.fraction);
  m->set_ramp_ms(kind_parts::millis(p.ramp));
  m->set_floor(p.floor);
}

void check(const FaultSpec&, const TargetSpec* t, KindProblems& problems) {
  kind_parts::check_whole_container("memory_pressure", t, problems);
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
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<MemoryPressureParams>();
            p->size_bytes = v.bytes("size");
            p->fraction = v.fraction("percent");
            p->ramp = v.duration("ramp");
            p->floor = v.fraction("floor");
            return p;
          },
      .check = check,
      .to_wire = kind_parts::wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
