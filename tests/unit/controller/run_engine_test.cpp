// The run engine as the state machine over its parts: whole runs against fake injectors
// behind in-process links, with real command probes, ending each way a run can end.
#include "controller/run/run_engine.h"

#include <gtest/gtest.h>

#include "experiments/loader.h"
#include "unit/controller/fake_injector.h"

namespace faultline::controller {
namespace {

using Kind = pb::ControllerMessage::MsgCase;

// One fault of 300 ms on every web node, checked by commands that pass unless told.
std::string yaml(const std::string& on_node_failure, const std::string& guardrail_run = "true") {
  return "apiVersion: faultline/v1\n"
         "kind: Experiment\n"
         "metadata: {name: engine}\n"
         "on_node_failure: " +
         on_node_failure +
         "\n"
         "targets:\n"
         "  web:\n"
         "    nodes: {selector: {role: web}, mode: all}\n"
         "    process: {pid: 4242}\n"
         "steady_state:\n"
         "  - {name: up, command: {run: [true]}}\n"
         "faults:\n"
         "  - {name: pause-web, kind: process_pause, target: web, duration: 300ms}\n"
         "abort_when:\n"
         "  - {name: guard, probe: {command: {run: [" +
         guardrail_run +
         "]}}, interval: 50ms}\n"
         "recovery:\n"
         "  deadline: 5s\n"
         "  checks:\n"
         "    - {name: back, command: {run: [true]}}\n"
         "rollbacks:\n"
         "  - {name: cleanup, command: {run: [true]}}\n";
}

struct EngineTest : ::testing::Test {
  pb::Run run(const std::string& text) {
    auto loaded = experiments::parse_experiment(text, "engine.yaml");
    EXPECT_TRUE(loaded.ok());
    auto plan = make_plan(*loaded.experiment, fleet.infos(), 1);
    EXPECT_TRUE(plan.ok());
    RunSettings settings;
    settings.renew_interval = std::chrono::milliseconds(100);
    RunEngine engine("r1", *loaded.experiment, *plan, fleet.registry, settings);
    engine.start();
    engine.wait();
    return engine.record();
  }
  std::vector<pb::RunState> states(const pb::Run& r) {
    std::vector<pb::RunState> out;
    for (const auto& ev : r.events())
      if (ev.type() == pb::EVENT_TYPE_STATE_CHANGED) out.push_back(ev.state());
    return out;
  }
  int count(const pb::Run& r, pb::EventType type) {
    int n = 0;
    for (const auto& ev : r.events()) n += ev.type() == type;
    return n;
  }

  testing::FakeFleet fleet{3};
};

TEST_F(EngineTest, APassingRunGoesThroughEveryPhaseAndLeavesNothingApplied) {
  pb::Run r = run(yaml("abort"));
  EXPECT_EQ(r.state(), pb::RUN_STATE_PASSED);
  EXPECT_EQ(states(r),
            (std::vector<pb::RunState>{pb::RUN_STATE_PENDING, pb::RUN_STATE_STEADY_STATE_CHECK,
                                       pb::RUN_STATE_INJECTING, pb::RUN_STATE_RECOVERING,
                                       pb::RUN_STATE_PASSED}));
  EXPECT_EQ(r.summary().reason().rfind("recovered in ", 0), 0u) << r.summary().reason();
  EXPECT_GE(r.summary().time_to_recover_ms(), 0);
  EXPECT_EQ(count(r, pb::EVENT_TYPE_FAULT_APPLIED), 3);
  EXPECT_EQ(count(r, pb::EVENT_TYPE_FAULT_REVERTED), 3);
  EXPECT_EQ(count(r, pb::EVENT_TYPE_RECOVERED), 1);
  EXPECT_EQ(count(r, pb::EVENT_TYPE_ALL_REVERTED), 0);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(fleet.injector(i).held().empty());
  EXPECT_EQ(r.events(r.events_size() - 3).message(), "rollback cleanup: exit code 0");
  // Each probe phase has its series in the summary.
  EXPECT_EQ(r.summary().series_size(), 4);
  // The duration is the finished event's monotonic time, not a difference of wall-clock stamps.
  int64_t last_elapsed = r.events(r.events_size() - 1).elapsed_ms();
  EXPECT_EQ(r.summary().duration_ms(), std::max<int64_t>(1, last_elapsed));
}

TEST_F(EngineTest, ANodeThatRefusesEndsTheRunInErrorWithEverythingReverted) {
  fleet.injector(2).refuse_apply("policy forbids it");
  pb::Run r = run(yaml("abort"));
  EXPECT_EQ(r.state(), pb::RUN_STATE_ERROR);
  EXPECT_EQ(r.summary().reason(),
            "fault \"pause-web\" failed: policy forbids it on node n2; every applied fault was "
            "reverted");
  EXPECT_EQ(fleet.injector(1).received(Kind::kRevert).size(), 1u);
  EXPECT_EQ(fleet.injector(3).received(Kind::kRevert).size(), 1u);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(fleet.injector(i).held().empty());
}

TEST_F(EngineTest, WithContinueTheRunPassesAndNamesTheNodeItLost) {
  fleet.injector(2).refuse_apply("policy forbids it");
  pb::Run r = run(yaml("continue"));
  EXPECT_EQ(r.state(), pb::RUN_STATE_PASSED);
  const std::string suffix =
      "; continued without n2 (fault \"pause-web\") (on_node_failure: continue)";
  const std::string& reason = r.summary().reason();
  ASSERT_GE(reason.size(), suffix.size());
  EXPECT_EQ(reason.substr(reason.size() - suffix.size()), suffix);
}

TEST_F(EngineTest, AGuardrailBreachAbortsAndRevertsEveryFault) {
  pb::Run r = run(yaml("abort", "false"));
  EXPECT_EQ(r.state(), pb::RUN_STATE_ABORTED);
  EXPECT_EQ(r.summary().reason(),
            "guardrail \"guard\" breached: exit code 1 (expected 0); every fault was reverted");
  EXPECT_EQ(count(r, pb::EVENT_TYPE_GUARDRAIL_BREACHED), 1);
  EXPECT_EQ(count(r, pb::EVENT_TYPE_ALL_REVERTED), 1);
  EXPECT_GE(r.summary().abort_to_reverted_ms(), 0);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(fleet.injector(i).held().empty());
}

}  // namespace
}  // namespace faultline::controller
