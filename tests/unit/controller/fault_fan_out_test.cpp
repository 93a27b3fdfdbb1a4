// The fan-out of a run's faults, driven through in-process links to fake injectors that
// answer FaultAck messages: what each node is sent, what the journal says, and how a node
// that refuses or disconnects ends the run or is gone on without.
#include "controller/run/fault_fan_out.h"

#include <gtest/gtest.h>

#include <thread>

#include "experiments/loader.h"
#include "unit/controller/fake_injector.h"

namespace faultline::controller {
namespace {

using namespace std::chrono_literals;
using testing::FakeFleet;
using Kind = pb::ControllerMessage::MsgCase;

experiments::Experiment experiment(const std::string& on_node_failure) {
  std::string yaml =
      "apiVersion: faultline/v1\n"
      "kind: Experiment\n"
      "metadata: {name: fan-out}\n"
      "on_node_failure: " +
      on_node_failure +
      "\n"
      "targets:\n"
      "  web:\n"
      "    nodes: {selector: {role: web}, mode: all}\n"
      "    process: {pid: 4242}\n"
      "faults:\n"
      "  - {name: pause-web, kind: process_pause, target: web, duration: 2s}\n";
  auto loaded = experiments::parse_experiment(yaml, "fan-out.yaml");
  EXPECT_TRUE(loaded.ok());
  return *loaded.experiment;
}

std::vector<pb::RunEvent> of_type(const RunContext& run, pb::EventType type) {
  std::vector<pb::RunEvent> out;
  for (const auto& ev : run.journal().events())
    if (ev.type() == type) out.push_back(ev);
  return out;
}

struct FanOutTest : ::testing::Test {
  void SetUp() override { make("abort"); }
  void make(const std::string& policy, int nodes = 3) {
    fan_out.reset();
    fleet = std::make_unique<FakeFleet>(nodes);
    exp = experiment(policy);
    auto planned = make_plan(exp, fleet->infos(), 1);
    ASSERT_TRUE(planned.ok()) << planned.error().message;
    plan = *planned;
    ASSERT_EQ(plan.faults.size(), 1u);
    ASSERT_EQ(plan.faults[0].nodes.size(), static_cast<size_t>(nodes));
    settings.lease = 10s;
    settings.renew_interval = 100ms;
    fan_out = std::make_unique<FaultFanOut>(run, exp, plan, fleet->registry, settings);
  }

  RunContext run{"r1"};
  std::unique_ptr<FakeFleet> fleet;
  experiments::Experiment exp;
  Plan plan;
  RunSettings settings;
  std::unique_ptr<FaultFanOut> fan_out;
};

TEST_F(FanOutTest, AppliesOnEveryNodeAndRevertsWhatItApplied) {
  ASSERT_TRUE(fan_out->apply({0}).ok());
  EXPECT_EQ(fan_out->active_count(), 3u);
  auto applied = of_type(run, pb::EVENT_TYPE_FAULT_APPLIED);
  ASSERT_EQ(applied.size(), 3u);
  std::set<std::string> nodes;
  for (int i = 1; i <= 3; ++i) {
    auto sent = fleet->injector(i).received(Kind::kApply);
    ASSERT_EQ(sent.size(), 1u) << "node n" << i;
    EXPECT_EQ(sent[0].apply().run_id(), "r1");
    EXPECT_TRUE(sent[0].apply().spec().has_process_pause());
    EXPECT_EQ(sent[0].apply().lease_ms(), 10000u);
    // The planned window plus one lease: the injector ends it even if the run cannot.
    EXPECT_EQ(sent[0].apply().max_duration_ms(), 12000u);
    EXPECT_EQ(fleet->injector(i).held().size(), 1u);
  }
  for (const auto& ev : applied) {
    nodes.insert(ev.fault().node());
    EXPECT_EQ(ev.fault().fault_name(), "pause-web");
    EXPECT_EQ(ev.fault().state().summary(), "paused pid 10" + ev.fault().node().substr(1));
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"n1", "n2", "n3"}));
  // What the faults held, for a process_restarted check.
  EXPECT_EQ(fan_out->touched("web"),
            (std::set<std::pair<int32_t, uint64_t>>{{101, 7}, {102, 7}, {103, 7}}));

  ASSERT_TRUE(fan_out->revert({0}).ok());
  EXPECT_EQ(fan_out->active_count(), 0u);
  for (int i = 1; i <= 3; ++i) {
    auto sent = fleet->injector(i).received(Kind::kRevert);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].revert().fault_id(),
              fleet->injector(i).received(Kind::kApply)[0].apply().fault_id());
    EXPECT_TRUE(fleet->injector(i).held().empty());
  }
  auto reverted = of_type(run, pb::EVENT_TYPE_FAULT_REVERTED);
  ASSERT_EQ(reverted.size(), 3u);
  EXPECT_EQ(reverted[0].fault().achieved(), "resumed pid 101");
  EXPECT_TRUE(fan_out->nodes_lost().empty());
}

TEST_F(FanOutTest, ANodeThatRefusesFailsTheApplyWithItsMessage) {
  fleet->injector(2).refuse_apply("policy forbids process_pause");
  Status s = fan_out->apply({0});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "fault \"pause-web\" failed: policy forbids process_pause on node n2");
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  auto failed = of_type(run, pb::EVENT_TYPE_FAULT_FAILED);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].fault().node(), "n2");
  EXPECT_EQ(failed[0].fault().error(), "policy forbids process_pause");
  EXPECT_TRUE(of_type(run, pb::EVENT_TYPE_NOTE).empty());
  // The others did apply; the run reverts them on its way out.
  EXPECT_EQ(fan_out->active_count(), 2u);
  ASSERT_TRUE(fan_out->revert_all_active().ok());
  EXPECT_EQ(fleet->injector(1).received(Kind::kRevert).size(), 1u);
  EXPECT_EQ(fleet->injector(2).received(Kind::kRevert).size(), 0u);
  EXPECT_EQ(fleet->injector(3).received(Kind::kRevert).size(), 1u);
}

TEST_F(FanOutTest, WithOnNodeFailureContinueTheRunGoesOnAndTheLossIsReported) {
  make("continue");
  fleet->injector(2).refuse_apply("policy forbids process_pause");
  ASSERT_TRUE(fan_out->apply({0}).ok());
  EXPECT_EQ(fan_out->active_count(), 2u);
  auto notes = of_type(run, pb::EVENT_TYPE_NOTE);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].message(),
            "fault \"pause-web\" failed: policy forbids process_pause on node n2; continuing "
            "with the other nodes (on_node_failure: continue)");
  // The note follows the node's event.
  auto events = run.journal().events();
  EXPECT_EQ(events.back().type(), pb::EVENT_TYPE_NOTE);
  EXPECT_EQ(fan_out->nodes_lost(), std::vector<std::string>{"n2 (fault \"pause-web\")"});
}

TEST_F(FanOutTest, ContinuingNeedsAtLeastOneNodeThatApplied) {
  make("continue");
  for (int i = 1; i <= 3; ++i) fleet->injector(i).refuse_apply("no");
  Status s = fan_out->apply({0});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "fault \"pause-web\" could not be applied on any of its 3 node(s)");
  EXPECT_EQ(fan_out->nodes_lost().size(), 3u);
}

TEST_F(FanOutTest, ANodeGoneBeforeTheApplyIsNotAsked) {
  fleet->link(3).drop();
  Status s = fan_out->apply({0});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "fault \"pause-web\" could not be applied: the node is no longer connected on node n3");
  EXPECT_TRUE(fleet->injector(3).received(Kind::kApply).empty());
  auto failed = of_type(run, pb::EVENT_TYPE_FAULT_FAILED);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].fault().error(), "node is no longer connected");
}

TEST_F(FanOutTest, RevertIsSentForEveryFaultEvenWhenOneFails) {
  ASSERT_TRUE(fan_out->apply({0}).ok());
  fleet->injector(1).refuse_revert("cgroup is gone");
  Status s = fan_out->revert_all_active();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "revert failed: cgroup is gone (the injector's lease will revert it)");
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(fleet->injector(i).received(Kind::kRevert).size(), 1u);
  EXPECT_EQ(of_type(run, pb::EVENT_TYPE_FAULT_REVERTED).size(), 2u);
  auto failed = of_type(run, pb::EVENT_TYPE_FAULT_FAILED);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].fault().node(), "n1");
  EXPECT_EQ(fan_out->active_count(), 0u);  // left to its lease, not retried
}

TEST_F(FanOutTest, HoldingRenewsEveryActiveLeaseUntilTheTime) {
  ASSERT_TRUE(fan_out->apply({0}).ok());
  MonoTime start = MonoClock::now();
  auto held = fan_out->hold_until(start + 550ms);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, FaultFanOut::Held::kReached);
  EXPECT_GE(MonoClock::now() - start, 550ms);
  fan_out->collect_renewals(true);
  for (int i = 1; i <= 3; ++i) {
    auto renewals = fleet->injector(i).received(Kind::kRenew);
    // Every 100 ms over 550 ms: five, give or take a slow wake-up.
    EXPECT_GE(renewals.size(), 3u) << "node n" << i;
    EXPECT_LE(renewals.size(), 6u) << "node n" << i;
    for (const auto& r : renewals) {
      EXPECT_EQ(r.renew().fault_id(),
                fleet->injector(i).received(Kind::kApply)[0].apply().fault_id());
      EXPECT_EQ(r.renew().lease_ms(), 10000u);
    }
  }
}

TEST_F(FanOutTest, AnAbortEndsTheHoldAtOnce) {
  ASSERT_TRUE(fan_out->apply({0}).ok());
  std::thread aborter([&] {
    std::this_thread::sleep_for(150ms);
    run.abort("operator");
  });
  MonoTime start = MonoClock::now();
  auto held = fan_out->hold_until(start + 10s);
  aborter.join();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, FaultFanOut::Held::kAborted);
  EXPECT_LT(MonoClock::now() - start, 2s);
}

TEST_F(FanOutTest, ADisconnectedNodesFaultIsDroppedAndReported) {
  make("continue");
  std::vector<std::string> lost;
  fan_out->on_fault_lost(
      [&](const std::string& id, const std::string& node, const std::string& fault) {
        lost.push_back(id + " " + node + " " + fault);
      });
  ASSERT_TRUE(fan_out->apply({0}).ok());
  std::string id2 = fleet->injector(2).received(Kind::kApply)[0].apply().fault_id();
  fleet->link(2).drop();
  // Noticed while holding, within the link check, and the run goes on to its time.
  MonoTime start = MonoClock::now();
  auto held = fan_out->hold_until(start + 600ms);
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_EQ(*held, FaultFanOut::Held::kReached);
  EXPECT_EQ(lost, std::vector<std::string>{id2 + " n2 pause-web"});
  EXPECT_EQ(fleet->link(2).disconnects(), 1);
  auto failed = of_type(run, pb::EVENT_TYPE_FAULT_FAILED);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].fault().fault_id(), id2);
  EXPECT_EQ(failed[0].fault().error(),
            "injector disconnected mid-run; its lease (10s) reverts the fault");
  EXPECT_EQ(fan_out->nodes_lost(), std::vector<std::string>{"n2 (fault \"pause-web\")"});
  EXPECT_EQ(fan_out->active_count(), 2u);
  ASSERT_TRUE(fan_out->revert_all_active().ok());
  EXPECT_TRUE(fleet->injector(2).received(Kind::kRevert).empty());
  EXPECT_EQ(fleet->injector(1).received(Kind::kRevert).size(), 1u);
}

TEST_F(FanOutTest, ALostNodeEndsTheHoldWhenThePolicyIsAbort) {
  ASSERT_TRUE(fan_out->apply({0}).ok());
  // An injector that restarted and dialled in again: a new link under the same name. The
  // fault the old one held was reverted from its ledger.
  testing::FakeInjector again("n3", 999);
  fleet->registry.add(std::make_shared<testing::FakeLink>(again));
  MonoTime start = MonoClock::now();
  auto held = fan_out->hold_until(start + 10s);
  ASSERT_FALSE(held.ok());
  EXPECT_LT(MonoClock::now() - start, 2s);
  EXPECT_EQ(held.error().message,
            "fault \"pause-web\" was lost: the injector disconnected on node n3");
  EXPECT_EQ(fan_out->active_count(), 2u);
  EXPECT_TRUE(fan_out->nodes_lost().empty());
}

}  // namespace
}  // namespace faultline::controller
