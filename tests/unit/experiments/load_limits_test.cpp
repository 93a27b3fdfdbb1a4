// Limits on what one experiment may cost to load (issue 19 items 5 and 6): each is refused at
// the line that crossed it, before anything big is built.
#include "experiments/load_limits.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "experiments/loader.h"
#include "support/alias_bomb.h"

namespace faultline::experiments {
namespace {

const char* kHead = "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: t}\n";

std::string first_problem(const LoadResult& r) {
  return r.diagnostics.empty() ? "" : r.diagnostics[0].format();
}

std::string alias_bomb() {
  return faultline::testing::alias_bomb(kHead);
}

TEST(LoadLimits, AnAliasBombIsRefusedAtItsLineInMilliseconds) {
  std::string bomb = alias_bomb();
  ASSERT_LT(bomb.size(), 1000u);
  auto start = std::chrono::steady_clock::now();
  auto r = parse_experiment(bomb, "bomb.yaml");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  // Line 10 is "  f: &f [*e,...]": 9^6 nodes would cross 100,000 there.
  EXPECT_EQ(first_problem(r),
            "bomb.yaml:10:10: the file stands for more than 100000 YAML nodes once its aliases "
            "are expanded (the limit)");
  // Not a timing target (that is in bench/), only a guard against the expansion coming back:
  // expanding it takes seconds, the pass over the events well under one.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 1000);
}

TEST(LoadLimits, AliasesWithinTheLimitStillWork) {
  std::string y = std::string(kHead) +
                  "targets:\n  web: &t {process: {name: nginx}}\n  api: *t\n"
                  "faults:\n  - name: k\n    kind: process_kill\n    target: web\n";
  auto r = parse_experiment(y, "ok.yaml");
  EXPECT_TRUE(r.ok()) << first_problem(r);
}

TEST(LoadLimits, ACycleAndDeepNestingAreRefused) {
  LoadLimits limits;
  auto deep = check_yaml_size(
      std::string(kHead) + "x: " + std::string(100, '[') + std::string(100, ']') + "\n",
      "deep.yaml", limits);
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->format(), "deep.yaml:4:67: nested deeper than 64 levels (the limit)");
}

TEST(LoadLimits, AFileOverTheSizeLimitIsRefusedBeforeParsing) {
  LoadOptions o;
  o.limits.max_bytes = 1000;
  auto r =
      parse_experiment(std::string(kHead) + "# " + std::string(2000, 'x') + "\n", "big.yaml", o);
  EXPECT_EQ(first_problem(r),
            "big.yaml: the file is 2065 bytes; experiments are limited to 1000 "
            "bytes");
}

TEST(LoadLimits, TooManyFaultsProbesOrStepsAreRefusedAtTheFirstOneOver) {
  LoadOptions o;
  o.limits.max_faults = 2;
  o.limits.max_probes = 3;
  std::string faults = "faults:\n";
  for (int i = 0; i < 3; ++i)
    faults +=
        "  - {name: k" + std::to_string(i) + ", kind: process_kill, target: web}\n  - pause: 1s\n";
  std::string y = std::string(kHead) + "targets:\n  web: {process: {name: nginx}}\n" + faults;
  auto r = parse_experiment(y, "many.yaml", o);
  EXPECT_EQ(first_problem(r),
            "many.yaml:11:5: faults[4]: more than 2 faults in one experiment (the limit)");
  o.limits.max_faults = 10;
  o.limits.max_steps = 5;
  r = parse_experiment(y, "many.yaml", o);
  EXPECT_EQ(first_problem(r),
            "many.yaml:12:5: faults[5]: more than 5 steps in one experiment (the limit)");
  o.limits.max_steps = 10;
  std::string probes = "steady_state:\n";
  for (int i = 0; i < 2; ++i)
    probes += "  - {name: p" + std::to_string(i) + ", tcp: {address: \"127.0.0.1:1\"}}\n";
  probes += "abort_when:\n";
  for (int i = 0; i < 2; ++i)
    probes += "  - {name: g" + std::to_string(i) + ", tcp: {address: \"127.0.0.1:1\"}}\n";
  r = parse_experiment(y + probes, "many.yaml", o);
  EXPECT_EQ(first_problem(r),
            "many.yaml:18:5: abort_when[1]: more than 3 probes, guardrails, checks and rollbacks "
            "in one experiment (the limit)");
}

TEST(LoadLimits, EnvironmentComesOnlyFromWhereTheOptionsSay) {
  setenv("FL_LOADER_SECRET", "from-the-process", 1);
  std::string y = std::string(kHead) +
                  "targets:\n  web: {process: {name: \"${env:FL_LOADER_SECRET}\"}}\n"
                  "faults:\n  - {name: k, kind: process_kill, target: web}\n";
  // A controller: never its own environment.
  auto r = parse_experiment(y, "e.yaml");
  EXPECT_EQ(first_problem(r),
            "e.yaml:5:25: targets.web.process.name: environment variable FL_LOADER_SECRET was not "
            "sent with the experiment: the controller never reads its own environment (set it "
            "where you run faultline, or write ${env:FL_LOADER_SECRET:-default} for a default)");
  // ... but what the client sent.
  LoadOptions sent;
  sent.environment = {{"FL_LOADER_SECRET", "sent"}};
  r = parse_experiment(y, "e.yaml", sent);
  ASSERT_TRUE(r.ok()) << first_problem(r);
  EXPECT_EQ(r.experiment->targets[0].process->name, "sent");
  // The CLI: its own environment.
  LoadOptions cli;
  cli.read_process_environment = true;
  r = parse_experiment(y, "e.yaml", cli);
  ASSERT_TRUE(r.ok()) << first_problem(r);
  EXPECT_EQ(r.experiment->targets[0].process->name, "from-the-process");
  unsetenv("FL_LOADER_SECRET");
}

}  // namespace
}  // namespace faultline::experiments
