// Table-driven from files: every shipped example and every file under tests/corpus/valid
// validates and plans; every file under tests/corpus/invalid gives exactly the diagnostics
// its "# expect:" lines list. Adding a case is adding a file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "controller/plan/planner.h"
#include "experiments/gameday.h"
#include "experiments/json_schema.h"
#include "experiments/loader.h"
#include "experiments/reference_doc.h"
#include "experiments/schema.h"

namespace faultline::experiments {
namespace {

namespace fs = std::filesystem;
const std::string kSource = FAULTLINE_SOURCE_DIR;

std::vector<fs::path> yaml_files(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kSource + "/" + dir))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fleet like the examples assume: labelled nodes that can do every fault kind.
std::vector<controller::InjectorInfo> fleet() {
  std::vector<controller::InjectorInfo> out;
  auto add = [&](std::string name, std::map<std::string, std::string> labels) {
    controller::InjectorInfo i;
    i.node_name = std::move(name);
    i.labels = std::move(labels);
    i.capabilities = fault_kind_names();
    // The mechanisms an injector with netem registers next to the kinds.
    for (const char* k : {"network_delay", "network_loss", "network_duplicate", "network_corrupt",
                          "network_reorder"})
      for (const char* m : {"netem", "nfqueue"}) i.capabilities.push_back(std::string(k) + ":" + m);
    i.capabilities.push_back("network_bandwidth:tbf");
    i.capabilities.push_back("network_bandwidth:htb");
    out.push_back(i);
  };
  for (int n = 1; n <= 3; ++n)
    add("web-" + std::to_string(n), {{"role", "web"}, {"env", "staging"}});
  for (int n = 1; n <= 4; ++n)
    add("api-" + std::to_string(n), {{"role", "api"}, {"env", "staging"}});
  add("cache-1", {{"role", "cache"}, {"env", "staging"}});
  add("db-1", {{"role", "db"}});
  return out;
}

std::string first_problem(const LoadResult& r) {
  return r.diagnostics.empty() ? "" : r.diagnostics[0].format();
}

TEST(Corpus, EveryExampleAndValidFileValidatesAndPlans) {
  auto files = yaml_files("experiments");
  EXPECT_GE(files.size(), 7u);  // quickstart and the six examples
  for (const char* dir : {"experiments/ci", "experiments/containers", "tests/corpus/valid"}) {
    auto more = yaml_files(dir);
    files.insert(files.end(), more.begin(), more.end());
  }
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    if (read(f).find("\nkind: GameDay") != std::string::npos) {
      // A game day: its own loader, which checks every experiment file it names exists.
      auto day = load_gameday_file(f.string());
      EXPECT_TRUE(day.day) << (day.diagnostics.empty() ? "" : day.diagnostics[0].format());
      if (day.day)
        for (const auto& step : day.day->steps) {
          auto r = load_experiment_file(step.file);
          EXPECT_TRUE(r.ok()) << step.file << ": " << first_problem(r);
        }
      continue;
    }
    auto r = load_experiment_file(f.string());
    ASSERT_TRUE(r.ok()) << first_problem(r);
    auto plan = controller::make_plan(*r.experiment, fleet(), 1234);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_FALSE(plan->faults.empty());
    for (const auto& pf : plan->faults) EXPECT_FALSE(pf.nodes.empty());
    EXPECT_LE(plan->total, r.experiment->max_duration);
  }
}

TEST(Corpus, EveryInvalidFileGivesExactlyTheExpectedLines) {
  auto files = yaml_files("tests/corpus/invalid");
  EXPECT_GE(files.size(), 10u);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    std::string text = read(f);
    std::vector<std::string> want;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("# expect: ", 0) == 0) want.push_back("t.yaml:" + line.substr(10));
    ASSERT_FALSE(want.empty()) << "no # expect: line";
    auto r = parse_experiment(text, "t.yaml");
    EXPECT_FALSE(r.ok());
    std::vector<std::string> got;
    for (const auto& d : r.diagnostics) got.push_back(d.format());
    EXPECT_EQ(got, want);
  }
}

TEST(Corpus, PlanIsDeterministicForAFixedSeed) {
  auto load = [] {
    auto r = load_experiment_file(kSource + "/experiments/game-day.yaml");
    EXPECT_TRUE(r.ok()) << first_problem(r);
    return std::move(*r.experiment);
  };
  // Parse twice: the whole path from text to plan, not just the planner, must be repeatable.
  Experiment a = load(), b = load();
  auto pa = controller::make_plan(a, fleet(), 42);
  auto pb = controller::make_plan(b, fleet(), 42);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(controller::format_plan(a, *pa), controller::format_plan(b, *pb));

  // The seed matters: across seeds the half of the api nodes chosen is not always the same.
  std::set<std::vector<std::string>> choices;
  for (uint32_t seed = 0; seed < 20; ++seed) {
    auto p = controller::make_plan(a, fleet(), seed);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->targets.at("api-ingress").nodes.size(), 2u);
    choices.insert(p->targets.at("api-ingress").nodes);
  }
  EXPECT_GT(choices.size(), 1u);
  // A target with its own seed ignores the run's seed.
  EXPECT_EQ(controller::make_plan(a, fleet(), 1)->targets.at("api-replica").nodes,
            controller::make_plan(a, fleet(), 2)->targets.at("api-replica").nodes);
}

TEST(Corpus, GameDayTimelineIsWhatTheStepsSay) {
  auto r = load_experiment_file(kSource + "/experiments/game-day.yaml");
  ASSERT_TRUE(r.ok()) << first_problem(r);
  auto plan = controller::make_plan(*r.experiment, fleet(), 42);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  std::map<std::string, std::vector<std::pair<double, double>>> windows;
  for (const auto& pf : plan->faults) {
    const auto& f = r.experiment->faults[pf.window.fault_index];
    windows[f.name].emplace_back(to_seconds(pf.window.start), to_seconds(pf.window.end));
  }
  using W = std::vector<std::pair<double, double>>;
  EXPECT_EQ(windows["slow-dependency"], (W{{0, 300}}));
  // After the 5m delay and a 2m pause, the kills repeat every minute while loss starts 30s in.
  EXPECT_EQ(windows["kill-api-replica"], (W{{420, 420}, {480, 480}, {540, 540}}));
  EXPECT_EQ(windows["lossy-api-ingress"], (W{{450, 690}}));
  // The parallel block ends with its longest member (690s), then a 2m pause.
  EXPECT_EQ(windows["freeze-cache"], (W{{810, 840}}));
  EXPECT_EQ(windows["post-freeze-latency"], (W{{900, 1020}}));
  EXPECT_EQ(to_seconds(plan->total), 1020);
}

TEST(Corpus, PlanRefusesANodeThatCannotDoTheFault) {
  auto r = load_experiment_file(kSource + "/experiments/pause-process.yaml");
  ASSERT_TRUE(r.ok()) << first_problem(r);
  controller::InjectorInfo only_kill{"n1", {}, {"process_kill"}, "test"};
  auto plan = controller::make_plan(*r.experiment, {only_kill}, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().message,
            "fault \"freeze-cache\": node n1 cannot do process_pause (it can: process_kill)");
}

TEST(Schema, JsonSchemaIsValidJsonAndCoversEveryKey) {
  auto j = nlohmann::json::parse(json_schema());
  EXPECT_EQ(j["$schema"], "https://json-schema.org/draft/2020-12/schema");
  const Schema& top = experiment_schema();
  for (const auto& p : top.properties) EXPECT_TRUE(j["properties"].contains(p.name)) << p.name;
  std::string text = j.dump();
  for (const FaultKind* kind : fault_kinds()) {
    EXPECT_NE(text.find("\"const\":\"" + kind->name + "\""), std::string::npos) << kind->name;
    for (const auto& p : kind->params->properties)
      EXPECT_NE(text.find("\"" + p.name + "\""), std::string::npos) << kind->name << "." << p.name;
  }
  EXPECT_TRUE(j["$defs"].contains("step"));
  EXPECT_TRUE(j["$defs"].contains("probe"));
}

TEST(Schema, CommittedReferenceDocMatchesTheSchema) {
  std::string committed = read(kSource + "/docs/experiment-reference.md");
  EXPECT_TRUE(committed == reference_markdown())
      << "docs/experiment-reference.md is stale: run "
         "build/src/faultline schema --format markdown > docs/experiment-reference.md";
}

TEST(Schema, EveryFaultKindExampleInTheReferenceIsValid) {
  // The snippets the reference shows for each kind, placed on a target with every scope.
  std::string doc = reference_markdown();
  size_t count = 0;
  for (size_t at = doc.find("```yaml\n"); at != std::string::npos;
       at = doc.find("```yaml\n", at + 1)) {
    size_t end = doc.find("```\n", at + 8);
    std::string snippet = doc.substr(at + 8, end - at - 8);
    std::string yaml =
        "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: t}\n"
        "targets:\n  my-target:\n    process: {name: app}\n    network: {interface: eth0}\n"
        "    paths: [/var/lib/app]\n  my-pod:\n    pod: {labels: {app: web}}\n"
        "  my-proxy:\n    proxy: {name: redis}\nfaults:\n";
    std::istringstream in(snippet);
    for (std::string line; std::getline(in, line);) yaml += "  " + line + "\n";
    auto r = parse_experiment(yaml, "snippet.yaml");
    EXPECT_TRUE(r.ok()) << yaml << "\n" << first_problem(r);
    ++count;
  }
  EXPECT_EQ(count, fault_kinds().size());
}

}  // namespace
}  // namespace faultline::experiments
