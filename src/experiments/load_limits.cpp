#include "experiments/load_limits.h"

#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

namespace faultline::experiments {
namespace {

struct Crossed {
  YAML::Mark mark;
  std::string message;
};

// Counts what the document stands for with every alias expanded, without building it: an
// anchored node's expanded size is recorded when it closes, and an alias adds that size.
class SizeCounter : public YAML::EventHandler {
 public:
  explicit SizeCounter(const LoadLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 0); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    leaf(mark, anchor, value.size());
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = closed_.find(anchor);
    if (it == closed_.end())
      throw Crossed{mark, "an alias refers to the node that contains it (a cycle)"};
    add(mark, it->second.nodes, it->second.bytes);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Size {
    size_t nodes = 0, bytes = 0;
  };
  struct Open {
    YAML::anchor_t anchor;
    Size at_start;
  };

  void add(const YAML::Mark& mark, size_t nodes, size_t bytes) {
    total_.nodes += nodes;
    total_.bytes += bytes;
    if (total_.nodes > limits_.max_nodes)
      throw Crossed{mark, "the file stands for more than " + std::to_string(limits_.max_nodes) +
                              " YAML nodes once its aliases are expanded (the limit)"};
    if (total_.bytes > limits_.max_expanded_bytes)
      throw Crossed{mark, "the file stands for more than " +
                              std::to_string(limits_.max_expanded_bytes) +
                              " bytes of values once its aliases are expanded (the limit)"};
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, size_t bytes) {
    add(mark, 1, bytes);
    if (anchor) closed_[anchor] = {1, bytes};
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (stack_.size() >= limits_.max_depth)
      throw Crossed{
          mark, "nested deeper than " + std::to_string(limits_.max_depth) + " levels (the limit)"};
    Size before = total_;
    add(mark, 1, 0);
    stack_.push_back({anchor, before});
  }
  void close() {
    Open o = stack_.back();
    stack_.pop_back();
    if (o.anchor)
      closed_[o.anchor] = {total_.nodes - o.at_start.nodes, total_.bytes - o.at_start.bytes};
  }

  const LoadLimits& limits_;
  Size total_;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, Size> closed_;
};

}  // namespace

std::optional<Diagnostic> check_yaml_size(std::string_view yaml_text, const std::string& source,
                                          const LoadLimits& limits) {
  if (yaml_text.size() > limits.max_bytes)
    return Diagnostic{{source, 0, 0},
                      "",
                      "the file is " + std::to_string(yaml_text.size()) +
                          " bytes; experiments are limited to " + std::to_string(limits.max_bytes) +
                          " bytes"};
  std::istringstream in{std::string(yaml_text)};
  try {
    YAML::Parser parser(in);
    SizeCounter counter(limits);
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const Crossed& c) {
    return Diagnostic{{source, c.mark.line + 1, c.mark.column + 1}, "", c.message};
  } catch (const YAML::Exception&) {
    // Syntax errors are the loader's to report, with its wording.
  }
  return std::nullopt;
}

namespace {

struct StepCount {
  size_t faults = 0, steps = 0;
  // optional: assigning to a YAML::Node assigns its content, it does not rebind it.
  std::optional<YAML::Node> first_fault_over, first_step_over;
  std::string fault_field, step_field;
};

void count_steps(const YAML::Node& list, const std::string& field, const LoadLimits& limits,
                 StepCount& c) {
  if (!list.IsSequence()) return;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& step = list[i];
    std::string at = field + "[" + std::to_string(i) + "]";
    if (++c.steps == limits.max_steps + 1) c.first_step_over.emplace(step), c.step_field = at;
    if (!step.IsMap()) continue;
    if (step["kind"] && ++c.faults == limits.max_faults + 1)
      c.first_fault_over.emplace(step), c.fault_field = at;
    for (const char* block : {"parallel", "sequential"})
      if (step[block]) count_steps(step[block], at + "." + block, limits, c);
  }
}

size_t length(const YAML::Node& n) {
  return n && n.IsSequence() ? n.size() : 0;
}

}  // namespace

bool check_experiment_counts(const YAML::Node& root, const LoadLimits& limits, YamlReader& reader) {
  if (!root.IsMap()) return true;
  size_t before = reader.error_count();
  // A missing key of a const node is an invalid node that throws when looked at.
  auto at = [&](const char* key) { return root[key] ? root[key] : YAML::Node(); };
  StepCount c;
  count_steps(at("faults"), "faults", limits, c);
  if (c.first_fault_over)
    reader.error(
        *c.first_fault_over, c.fault_field,
        "more than " + std::to_string(limits.max_faults) + " faults in one experiment (the limit)");
  else if (c.first_step_over)
    reader.error(
        *c.first_step_over, c.step_field,
        "more than " + std::to_string(limits.max_steps) + " steps in one experiment (the limit)");
  // Probes, in the order the file usually has them; the one that crosses the limit is named.
  YAML::Node recovery = at("recovery");
  std::vector<std::pair<std::string, YAML::Node>> lists{
      {"steady_state", at("steady_state")},
      {"abort_when", at("abort_when")},
      {"recovery.checks",
       recovery.IsMap() && recovery["checks"] ? recovery["checks"] : YAML::Node()},
      {"rollbacks", at("rollbacks")}};
  size_t probes = 0;
  for (const auto& [field, list] : lists) {
    size_t n = length(list);
    if (probes + n > limits.max_probes) {
      size_t i = limits.max_probes - probes;
      reader.error(list[i], field + "[" + std::to_string(i) + "]",
                   "more than " + std::to_string(limits.max_probes) +
                       " probes, guardrails, checks and rollbacks in one experiment (the limit)");
      break;
    }
    probes += n;
  }
  return reader.error_count() == before;
}

}  // namespace faultline::experiments
