// container_restarted: what counts as "runs again" for a container or pod a fault hit.
#include "controller/watch/container_restarted_probe.h"

#include <gtest/gtest.h>

namespace faultline::controller {
namespace {

pb::TouchedContainer pod(const std::string& uid, const std::string& sandbox,
                         std::vector<std::tuple<std::string, std::string, uint32_t>> members) {
  pb::TouchedContainer c;
  c.set_runtime("cri");
  c.set_pod_uid(uid);
  c.set_pod_id(sandbox);
  c.set_pod_namespace("shop");
  c.set_pod_name("checkout-" + uid);
  for (const auto& [name, id, restarts] : members) {
    auto* m = c.add_members();
    m->set_name(name);
    m->set_id(id);
    m->set_restart_count(restarts);
  }
  return c;
}

TEST(ContainerRestarted, ANewContainerOfTheSameNameInTheSamePodCounts) {
  auto hit = pod("u1", "s1", {{"web", "c1", 0}});
  std::string why;
  EXPECT_FALSE(runs_again(hit, {pod("u1", "s1", {{"web", "c1", 0}})}, why)) << why;
  EXPECT_TRUE(runs_again(hit, {pod("u1", "s1", {{"web", "c2", 1}})}, why)) << why;
  EXPECT_NE(why.find("web is a new container"), std::string::npos) << why;
}

TEST(ContainerRestarted, ARestartInPlaceCounts) {
  pb::TouchedContainer hit;
  hit.set_runtime("docker");
  hit.set_id("c1");
  hit.set_name("redis");
  auto* m = hit.add_members();
  m->set_id("c1");
  m->set_name("redis");
  m->set_restart_count(2);
  pb::TouchedContainer same = hit;
  std::string why;
  EXPECT_FALSE(runs_again(hit, {same}, why));
  same.mutable_members(0)->set_restart_count(3);
  EXPECT_TRUE(runs_again(hit, {same}, why)) << why;
  EXPECT_NE(why.find("redis was restarted"), std::string::npos) << why;
}

TEST(ContainerRestarted, ANewSandboxOfTheSamePodCounts) {
  auto hit = pod("u1", "s1", {{"web", "c1", 0}, {"sidecar", "c2", 0}});
  std::string why;
  EXPECT_TRUE(runs_again(hit, {pod("u1", "s2", {{"web", "c3", 0}})}, why)) << why;
  EXPECT_NE(why.find("new sandbox"), std::string::npos) << why;
}

TEST(ContainerRestarted, OtherPodsAndHalfRestartedPodsDoNotCount) {
  auto hit = pod("u1", "s1", {{"web", "c1", 0}, {"sidecar", "c2", 0}});
  std::string why;
  // A pod that was never hit, however fresh, is not the one that must come back.
  EXPECT_FALSE(runs_again(hit, {pod("u2", "s9", {{"web", "c9", 0}})}, why));
  EXPECT_NE(why.find("is not running"), std::string::npos) << why;
  // Only one of the two containers the fault hit is back.
  EXPECT_FALSE(runs_again(hit, {pod("u1", "s1", {{"web", "c3", 1}, {"sidecar", "c2", 0}})}, why));
  EXPECT_TRUE(runs_again(hit, {pod("u1", "s1", {{"web", "c3", 1}, {"sidecar", "c4", 1}})}, why))
      << why;
}

}  // namespace
}  // namespace faultline::controller
