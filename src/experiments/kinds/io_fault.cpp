#include "experiments/kinds/io_fault.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

void write(const IoFaultParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_io_fault();
  for (const auto& path : t.paths) m->add_paths(path);
  m->set_latency_us(kind_parts::micros(p.latency));
  m->set_error(p.error);
  m->set_fraction(p.fraction);
  m->set_operations(p.operations);
}

FaultKind describe() {
  auto latency =
      duration("Added latency per operation (set latency, error or both).", "0s", false, 60);
  latency->example = "5ms";
  return {
      .name = "io_fault",
      .params = object(
          {opt("latency", latency),
           opt("error", enumeration({"none", "EIO", "ENOSPC", "EACCES", "EROFS", "EDQUOT"},
                                    "Error returned by faulted operations.", "none")),
           opt("fraction", percent("Share of operations faulted.", "100%", true)),
           opt("operations",
               enumeration({"read", "write", "all"}, "Which operations are faulted.", "all"))},
          "Slow down or fail file operations under the target path."),
      .needs = TargetNeeds::kPaths,
      .scope = ScopeClass::kPaths,
      .containers = not_on_containers(
          "paths are the node's; the container's own filesystem is not reached yet"),
      .read =
          [](const ParamValues& v, KindProblems& problems) {
            auto p = std::make_shared<IoFaultParams>();
            p->latency = v.duration("latency");
            p->error = v.text("error");
            p->fraction = v.fraction("fraction");
            p->operations = v.text("operations");
            if (p->latency == Duration::zero() && p->error == "none")
              problems.error("params", "io_fault needs a latency or an error (or both)");
            return p;
          },
      .to_wire = kind_parts::wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
