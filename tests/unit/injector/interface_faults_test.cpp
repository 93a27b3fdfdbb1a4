// interface_down and link_flap through rtnetlink, on a veth interface inside a network
// namespace the test makes (never the machine's own interfaces).
#include <gtest/gtest.h>

#include <thread>

#include "injector/fault_engine.h"
#include "injector/network/link_control.h"
#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

// Administrative state as `ip` (not our own code) reports it.
bool ip_says_up(const TestNetns& ns, const std::string& ifname) {
  std::string line = capture("ip -n " + ns.name() + " -o link show " + ifname);
  auto open = line.find('<'), close = line.find('>');
  if (open == std::string::npos || close == std::string::npos) return false;
  std::string flags = "," + line.substr(open + 1, close - open - 1) + ",";
  return flags.find(",UP,") != std::string::npos;
}

class InterfaceFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ns_.ok()) << "cannot create a network namespace (run as root)";
    // veth, not dummy: the dummy module is not in every kernel (this one has none).
    ASSERT_TRUE(ns_.ip("link add d0 type veth peer name d1") && ns_.ip("link set d0 up"));
    ASSERT_TRUE(ip_says_up(ns_, "d0"));
  }
  pb::FaultSpec spec(bool flap) {
    pb::FaultSpec s;
    auto* p = flap ? s.mutable_link_flap() : s.mutable_interface_down();
    p->mutable_scope()->set_netns(ns_.name());
    p->mutable_scope()->set_interface("d0");
    if (flap) {
      p->set_flap_down_ms(100);
      p->set_flap_up_ms(100);
    }
    return s;
  }
  TestNetns ns_;
};

TEST_F(InterfaceFaults, DownUntilRevertedThenUp) {
  FaultEngine engine(default_backends());
  auto applied = engine.apply("down", spec(false), 30s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_FALSE(ip_says_up(ns_, "d0"));
  EXPECT_EQ(applied->summary(), "took d0 in netns " + ns_.name() + " down");
  ASSERT_TRUE(engine.revert("down").ok());
  EXPECT_TRUE(ip_says_up(ns_, "d0"));
  // The injector's own namespace was never touched: it still has its loopback up.
  auto lo = link_is_up("", "lo");
  ASSERT_TRUE(lo.ok());
  EXPECT_TRUE(*lo);
}

TEST_F(InterfaceFaults, AnInterfaceAlreadyDownIsRefused) {
  ASSERT_TRUE(ns_.ip("link set d0 down"));
  FaultEngine engine(default_backends());
  auto applied = engine.apply("down", spec(false), 30s);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("already down"), std::string::npos);
  EXPECT_FALSE(ip_says_up(ns_, "d0"));
}

TEST_F(InterfaceFaults, FlapTogglesUntilRevertedAndEndsUp) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("flap", spec(true), 30s).ok());
  int transitions = 0;
  bool last = ip_says_up(ns_, "d0");
  for (int i = 0; i < 60; ++i) {
    std::this_thread::sleep_for(20ms);
    bool now = ip_says_up(ns_, "d0");
    transitions += now != last;
    last = now;
  }
  EXPECT_GE(transitions, 4) << "1.2s of 100ms/100ms flapping";
  ASSERT_TRUE(engine.revert("flap").ok());
  EXPECT_TRUE(ip_says_up(ns_, "d0"));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(ip_says_up(ns_, "d0")) << "flapping went on after revert";
}

TEST_F(InterfaceFaults, RevertSucceedsWhenTheNamespaceIsGone) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("down", spec(false), 30s).ok());
  ASSERT_EQ(std::system(("ip netns del " + ns_.name()).c_str()), 0);
  EXPECT_TRUE(engine.revert("down").ok());
}

}  // namespace
}  // namespace faultline::injector
