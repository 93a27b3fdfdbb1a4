#include "experiments/kinds/clock_skew.h"

#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments {
namespace {

using namespace schema_builders;

void write(const ClockSkewParams& p, const WireTarget& t, v1::FaultSpec& out) {
  auto* m = out.mutable_clock_skew();
  *m->mutable_selector() = t.selector;
  m->set_offset_ms(std::chrono::duration_cast<std::chrono::milliseconds>(p.offset).count());
  m->set_clocks(p.clocks);
}

FaultKind describe() {
  return {
      .name = "clock_skew",
      .params = object({req("offset", str("Signed shift, e.g. +5m or -90s.", "+5m")),
                        opt("clocks", enumeration({"realtime", "monotonic", "boottime"},
                                                  "Which clock the target sees shifted; "
                                                  "monotonic and boottime need faultline exec "
                                                  "--all-clocks.",
                                                  "realtime"))},
                       "Shift the clock of a target started with faultline exec."),
      .needs = TargetNeeds::kProcess,
      .scope = ScopeClass::kClock,
      .containers = not_on_containers(
          "the clock is skewed through libfaketime files the container's processes cannot see"),
      .read =
          [](const ParamValues& v, KindProblems& problems) {
            auto p = std::make_shared<ClockSkewParams>();
            std::string text = v.text("offset");
            // The schema has no signed-duration type (its JSON Schema says string), so this
            // is the one place the offset is parsed.
            if (auto off = parse_signed_duration(text))
              p->offset = *off;
            else
              problems.error("params.offset", "\"" + text +
                                                  "\" is not a signed duration (expected e.g. "
                                                  "+5m, -90s)");
            p->clocks = v.text("clocks");
            return p;
          },
      .to_wire = kind_parts::wire(&write),
  };
}

}  // namespace
FAULTLINE_REGISTER_FAULT_KIND(describe);
}  // namespace faultline::experiments
