#include "experiments/kinds/cpu_stress.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

void write(const CpuStressParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_cpu_stress();
  // On a pod or container: charged to its cgroups, resolved by the injector.
  if (t.selector.has_container())
    *m->mutable_in_container() = kind_parts::container_only(t.selector);
  m->set_workers(static_cast<uint32_t>(p.workers));
  m->set_load(p.load);
  for (int c : p.cpus) m->add_cpus(static_cast<uint32_t>(c));
}

void check(const FaultSpec& f, const TargetSpec* t, KindProblems& problems) {
  kind_parts::check_whole_container("cpu_stress", t, problems);
  const auto* p = params_as<CpuStressParams>(f.params);
  if (t && t->container && p && !p->cpus.empty())
    problems.error("params.cpus",
                   "cpus pins workers to the node's CPUs; on a container the "
                   "workers run on the container's own cpuset (drop cpus)");
}

FaultKind describe() {
  return {
      .name = "cpu_stress",
      .params =
          object({opt("workers", integer("Busy worker threads.", 1, 1024, "1")),
                  opt("load", percent("Target load of each worker.", "100%", true)),
                  opt("cpus", list(integer("CPU number.", 0, 4095), "Pin workers to these CPUs."))},
                 "Burn CPU."),
      .needs = TargetNeeds::kNothing,
      .scope = ScopeClass::kHostCpu,
      .containers = works_on_containers(),
      .read =
          [](const ParamValues& v, KindProblems&) {
            auto p = std::make_shared<CpuStressParams>();
            p->workers = static_cast<int>(v.integer("workers"));
            p->load = v.fraction("load");
            for (long long c : v.integers("cpus")) p->cpus.push_back(static_cast<int>(c));
            return p;
          },
      .check = check,
      .to_wire = kind_parts::wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
