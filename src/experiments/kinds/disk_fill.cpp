#include "experiments/kinds/disk_fill.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

void write(const DiskFillParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_disk_fill();
  m->set_path(t.paths.empty() ? "" : t.paths.front());
  m->set_size_bytes(p.size_bytes);
  m->set_fraction(p.fraction);
  m->set_reserve_bytes(p.reserve_bytes);
  // On a pod or container: the path is inside it, resolved by the injector.
  if (t.selector.has_container())
    *m->mutable_in_container() = kind_parts::container_only(t.selector);
}

void check(const FaultSpec&, const TargetSpec* t, KindProblems& problems) {
  kind_parts::check_whole_container("disk_fill", t, problems);
}

FaultKind describe() {
  return {
      .name = "disk_fill",
      .params =
          object({opt("size", size("Bytes to write.")),
                  opt("percent", percent("Or: fill the filesystem to this share used.", "", true)),
                  opt("reserve", size("Always leave this much free.", "100MiB"))},
                 "Fill the filesystem holding the target path.", {{"size", "percent"}}),
      .needs = TargetNeeds::kPaths,
      .scope = ScopeClass::kPaths,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<DiskFillParams>();
            p->size_bytes = v.bytes("size");
            p->fraction = v.fraction("percent");
            p->reserve_bytes = v.bytes("reserve");
            return p;
          },
      .check = check,
      .to_wire = kind_parts::wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
