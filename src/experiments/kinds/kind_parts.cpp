#include "experiments/kinds/kind_parts.h"

namespace faultline::experiments::kind_parts {

using namespace schema_builders;

std::vector<Property> selection_props(const std::string& what) {
  return {
      opt("mode", enumeration({"one", "all", "count", "percent"},
                              "How many of the matching " + what + " to hit.", "one")),
      opt("count", integer("With mode count: how many " + what + ".", 1, 100000)),
      opt("percent",
          percent("With mode percent: which share of the " + what + " (rounded up, at least one).",
                  "", true)),
  };
}

std::vector<Property> process_selection_props(std::vector<Property> own) {
  auto props = selection_props("processes");
  props.insert(props.end(), own.begin(), own.end());
  return props;
}

Selection read_selection(const ParamValues& p) {
  Selection s;
  std::string mode = p.text("mode");
  if (mode == "all") s.mode = Selection::Mode::kAll;
  if (mode == "count") s.mode = Selection::Mode::kCount;
  if (mode == "percent") s.mode = Selection::Mode::kPercent;
  // The schema gives count and percent no default: they mean something only with their mode.
  if (p.has("count")) s.count = static_cast<int>(p.integer("count"));
  if (p.has("percent")) s.fraction = p.fraction("percent");
  return s;
}

v1::ProcessSelection selection_to_wire(const Selection& s) {
  using Mode = Selection::Mode;
  v1::ProcessSelection out;
  switch (s.mode) {
    case Mode::kOne:
      out.set_mode(v1::PROCESS_MODE_ONE);
      break;
    case Mode::kAll:
      out.set_mode(v1::PROCESS_MODE_ALL);
      break;
    case Mode::kCount:
      out.set_mode(v1::PROCESS_MODE_COUNT);
      break;
    case Mode::kPercent:
      out.set_mode(v1::PROCESS_MODE_PERCENT);
      break;
  }
  out.set_count(static_cast<uint32_t>(s.count));
  out.set_fraction(s.fraction);
  return out;
}

v1::ProcessSelector container_only(const v1::ProcessSelector& s) {
  v1::ProcessSelector out;
  *out.mutable_container() = s.container();
  out.set_skip_if_empty(s.skip_if_empty());
  return out;
}

void check_whole_container(const std::string& kind, const TargetSpec* t, KindProblems& problems) {
  if (t && t->container && t->process)
    problems.error("target", kind + " is charged to a whole container's cgroup: target \"" +
                                 t->name + "\" narrows it to some processes (drop targets." +
                                 t->name + ".process)");
}

Property backend_prop(std::vector<std::string> values, std::string def) {
  return opt("backend", enumeration(std::move(values),
                                    "Which injector backend applies the fault; auto picks the "
                                    "best one the node has.",
                                    std::move(def)));
}

Property shaping_backend_prop() {
  return backend_prop({"auto", "netem", "nfqueue"}, "auto");
}

Property correlation_prop() {
  return opt("correlation",
             percent("How much each packet's outcome depends on the previous one.", "0%"));
}

uint64_t micros(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}
uint32_t millis(Duration d) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace faultline::experiments::kind_parts
