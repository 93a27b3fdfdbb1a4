// Container and pod targets are planned over what every node's injector lists: the blast
// radius counts pods across the fleet, the choice is seeded, and each chosen pod gets its own
// fault naming it, so a node with two chosen pods holds two faults.
#include <gtest/gtest.h>

#include "controller/plan/container_inventory.h"
#include "controller/plan/planner.h"
#include "controller/run/fault_fan_out.h"
#include "experiments/loader.h"
#include "unit/controller/fake_injector.h"

namespace faultline::controller {
namespace {

using namespace std::chrono_literals;
using testing::FakeFleet;
using Kind = pb::ControllerMessage::MsgCase;

experiments::Experiment experiment(const std::string& pod) {
  std::string yaml =
      "apiVersion: faultline/v1\nkind: Experiment\nmetadata: {name: pods}\n"
      "targets:\n  checkout:\n    nodes: {selector: {role: web}}\n    pod: " +
      pod + "\nfaults:\n  - {name: pause, kind: process_pause, target: checkout, duration: 2s}\n";
  auto loaded = experiments::parse_experiment(yaml, "pods.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].format());
  return *loaded.experiment;
}

struct ContainerPlacement : ::testing::Test {
  void SetUp() override {
    fleet.injector(1).has_pods({"checkout-1", "checkout-2"});
    fleet.injector(2).has_pods({"checkout-3"});
    fleet.injector(3).has_pods({});
  }
  Result<Plan> plan(const experiments::Experiment& e, uint32_t seed = 7) {
    std::vector<std::shared_ptr<InjectorLink>> links(fleet.links.begin(), fleet.links.end());
    inventory = list_container_targets(e, links);
    return make_plan(e, fleet.infos(), seed, &inventory);
  }
  FakeFleet fleet{3};
  ContainerInventory inventory;
};

TEST_F(ContainerPlacement, ModeOneChoosesOnePodAmongEveryNodesAndSaysWhich) {
  auto e = experiment("{namespace: shop, labels: {app: checkout}}");
  auto p = plan(e);
  ASSERT_TRUE(p) << p.error().message;
  const TargetPlacement& t = p->targets.at("checkout");
  ASSERT_EQ(t.nodes.size(), 1u);
  ASSERT_EQ(t.containers.size(), 1u);
  ASSERT_EQ(t.containers.begin()->second.size(), 1u);
  EXPECT_EQ(t.containers.begin()->first, t.nodes[0]);
  EXPECT_EQ(t.spared.size(), 2u);
  EXPECT_NE(t.why.find("1 of 3 matching pod(s) on 3 node(s) (mode one, seed 7)"), std::string::npos)
      << t.why;
  // Every node was asked, once, with the target's selector.
  for (int i = 1; i <= 3; ++i) {
    auto asked = fleet.injector(i).received(Kind::kListContainers);
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_TRUE(asked[0].list_containers().selector().pod());
    EXPECT_EQ(asked[0].list_containers().selector().pod_labels().at("app"), "checkout");
  }
  // The same seed chooses the same pod; the plan lists it.
  auto again = plan(e);
  ASSERT_TRUE(again);
  const auto& chosen_again = again->targets.at("checkout").containers;
  ASSERT_EQ(chosen_again.size(), 1u);
  EXPECT_EQ(chosen_again.begin()->second[0].pod_id(), t.containers.begin()->second[0].pod_id());
  std::string text = format_plan(e, *p);
  EXPECT_NE(text.find(t.nodes[0] + " shop/" + t.containers.begin()->second[0].pod_name()),
            std::string::npos)
      << text;
}

TEST_F(ContainerPlacement, ModeAllSendsOneFaultPerPodNamingIt) {
  auto e = experiment("{labels: {app: checkout}, mode: all}");
  auto p = plan(e);
  ASSERT_TRUE(p) << p.error().message;
  const TargetPlacement& t = p->targets.at("checkout");
  EXPECT_EQ(t.nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(t.containers.at("n1").size(), 2u);
  EXPECT_TRUE(t.spared.empty());

  RunContext run{"r1"};
  RunSettings settings;
  settings.lease = 10s;
  FaultFanOut fan_out(run, e, *p, fleet.registry, settings);
  ASSERT_TRUE(fan_out.apply({0}));
  EXPECT_EQ(fan_out.active_count(), 3u);
  std::set<std::string> named;
  for (int i = 1; i <= 3; ++i)
    for (const auto& m : fleet.injector(i).received(Kind::kApply)) {
      const auto& c = m.apply().spec().process_pause().selector().container();
      ASSERT_EQ(c.ids_size(), 1);
      named.insert(fleet.injector(i).node() + ":" + c.ids(0));
    }
  EXPECT_EQ(named,
            (std::set<std::string>{"n1:id-checkout-1", "n1:id-checkout-2", "n2:id-checkout-3"}));
  EXPECT_TRUE(fleet.injector(3).received(Kind::kApply).empty());
  ASSERT_TRUE(fan_out.revert({0}));
  EXPECT_EQ(fan_out.active_count(), 0u);
}

TEST_F(ContainerPlacement, NothingMatchingFailsOrSkipsAsTheTargetSays) {
  fleet.injector(1).has_pods({});
  fleet.injector(2).has_pods({});
  auto fails = plan(experiment("{labels: {app: checkout}}"));
  ASSERT_FALSE(fails);
  EXPECT_NE(fails.error().message.find(
                "target \"checkout\": no running pod(s) matches on any of the 3 node(s) asked"),
            std::string::npos)
      << fails.error().message;
  auto skips = plan(experiment("{labels: {app: checkout}, on_empty: skip}"));
  ASSERT_TRUE(skips) << skips.error().message;
  EXPECT_TRUE(skips->targets.at("checkout").nodes.empty());
  EXPECT_NE(skips->targets.at("checkout").why.find("on_empty: skip"), std::string::npos);
}

TEST_F(ContainerPlacement, ANodeThatCannotListIsLeftOutAndSaidSo) {
  fleet.injector(3).refuse_list("this injector has no cri runtime configured");
  auto p = plan(experiment("{labels: {app: checkout}, mode: count, count: 3}"));
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->notes.size(), 1u);
  EXPECT_NE(p->notes[0].find("n3: this injector has no cri runtime configured (left out)"),
            std::string::npos)
      << p->notes[0];
  auto too_many = plan(experiment("{labels: {app: checkout}, mode: count, count: 4}"));
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message.find("mode count 4 but only 3 pod(s) match"),
            std::string::npos)
      << too_many.error().message;
  for (int i : {1, 2}) fleet.injector(i).refuse_list("runtime down");
  auto none = plan(experiment("{labels: {app: checkout}}"));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("could not list pod(s) on n1: runtime down"),
            std::string::npos)
      << none.error().message;
}

}  // namespace
}  // namespace faultline::controller
