// The netem backend (libnl-route) on a kernel that has sch_netem. This machine's kernel has
// none, so these run inside a VM booting Debian's stock kernel (tests/vm/run_in_vm.sh, ctest
// NetemVm.*); on a host with netem they also run directly. The installed qdisc is checked with
// `tc -s qdisc show` (iproute2, not our code) as well as by measured RTT.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "injector/fault_engine.h"
#include "injector/network/qdisc_tree.h"
#include "support/two_hosts.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

class Netem : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!netem_available()) {
      // Inside the VM a missing netem is a failure, not a reason to skip.
      if (std::getenv("FAULTLINE_REQUIRE_NETEM")) FAIL() << "sch_netem is required here";
      GTEST_SKIP() << "no sch_netem in this kernel; ctest runs these in a VM (NetemVm)";
    }
    ASSERT_TRUE(net_.ok());
  }
  pb::NetworkScope scope() {
    pb::NetworkScope s;
    s.set_netns(net_.a());
    s.set_interface("a0");
    return s;
  }
  pb::FaultSpec delay(int ms) {
    pb::FaultSpec f;
    *f.mutable_network_delay()->mutable_scope() = scope();
    f.mutable_network_delay()->set_delay_us(ms * 1000);
    return f;
  }
  std::string tc() { return net_.in_a("tc -s qdisc show dev a0"); }

  TwoHosts net_;
};

TEST_F(Netem, AutoPicksNetemAndTheQdiscAndRttShowTheDelay) {
  PingStats base = net_.ping_from_a("10.77.0.2", 50);
  FaultEngine engine(default_backends());
  auto applied = engine.apply("d", delay(20), 60s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_NE(applied->summary().find("[netem]"), std::string::npos) << applied->summary();
  std::string q = tc();
  EXPECT_NE(q.find("qdisc netem fa17: root"), std::string::npos) << q;
  EXPECT_NE(q.find("delay 20ms"), std::string::npos) << q;
  PingStats s = net_.ping_from_a("10.77.0.2", 100);
  // netem never sends early. Late is the emulated VM's timer (TCG, whose clock stalls with the
  // host: +8 ms seen on CI), not netem; the qdisc read back above holds the exact parameters.
  EXPECT_GE(s.min_ms, 20.0);
  double added = s.median_ms - base.median_ms;
  EXPECT_GE(added, 19.0) << "base " << base.median_ms << " now " << s.median_ms;
  EXPECT_LE(added, 40.0) << "base " << base.median_ms << " now " << s.median_ms;
  ASSERT_TRUE(engine.revert("d").ok());
  ASSERT_TRUE(engine.revert("d").ok());
  EXPECT_EQ(tc().find("fa17:"), std::string::npos) << tc();
  EXPECT_LT(net_.ping_from_a("10.77.0.2", 50).median_ms, base.median_ms + 1.0);
}

TEST_F(Netem, LossOverTwoThousandPacketsIsWithinThreePoints) {
  FaultEngine engine(default_backends());
  pb::FaultSpec f;
  *f.mutable_network_loss()->mutable_scope() = scope();
  f.mutable_network_loss()->set_fraction(0.2);
  ASSERT_TRUE(engine.apply("l", f, 60s).ok());
  EXPECT_NE(tc().find("loss 20%"), std::string::npos) << tc();
  PingStats s = net_.ping_from_a("10.77.0.2", 2000, 0.002);
  EXPECT_NEAR(s.loss_percent, 20.0, 3.0);
}

TEST_F(Netem, GilbertElliottLossIsANetemLossModel) {
  FaultEngine engine(default_backends());
  pb::FaultSpec f;
  auto* l = f.mutable_network_loss();
  *l->mutable_scope() = scope();
  l->set_model("gilbert-elliott");
  l->set_p(0.05);
  l->set_r(0.5);
  l->set_loss_bad(1.0);
  l->set_loss_good(0.0);
  auto applied = engine.apply("ge", f, 60s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_NE(applied->summary().find("[netem]"), std::string::npos) << applied->summary();
  EXPECT_NE(tc().find("loss gemodel p 5%"), std::string::npos) << tc();
  PingStats s = net_.ping_from_a("10.77.0.2", 2000, 0.002);
  // Time in the bad state: p / (p + r) = 9.1%, and every packet there is lost.
  EXPECT_NEAR(s.loss_percent, 100.0 * 0.05 / 0.55, 3.0);
}

TEST_F(Netem, BandwidthThroughNetemsOwnRate) {
  FaultEngine engine(default_backends());
  pb::FaultSpec f;
  auto* b = f.mutable_network_bandwidth();
  *b->mutable_scope() = scope();
  b->set_rate_bps(1'000'000);
  b->set_backend("netem");
  auto applied = engine.apply("bw", f, 60s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_NE(tc().find("rate 1Mbit"), std::string::npos) << tc();
  // A 1,400-byte echo request takes 11.4 ms to leave at 1 Mbit/s.
  PingStats s = parse_ping(net_.in_a("ping -n -q -s 1400 -c 10 -i 0.05 10.77.0.2"));
  EXPECT_EQ(s.received, 10);
  EXPECT_GE(s.min_ms, 11.0);
  ASSERT_TRUE(engine.revert("bw").ok());
  EXPECT_EQ(tc().find("fa17:"), std::string::npos) << tc();
}

TEST_F(Netem, ScopedNetemLeavesOtherDestinationsAlone) {
  FaultEngine engine(default_backends());
  auto f = delay(30);
  f.mutable_network_delay()->mutable_scope()->add_destinations("10.77.0.2/32");
  ASSERT_TRUE(engine.apply("d", f, 60s).ok());
  std::string q = tc();
  EXPECT_NE(q.find("qdisc htb fa17: root"), std::string::npos) << q;
  EXPECT_NE(q.find("qdisc netem fa18: parent fa17:1"), std::string::npos) << q;
  EXPECT_GE(net_.ping_from_a("10.77.0.2", 20).min_ms, 30.0);
  EXPECT_LT(net_.ping_from_a("10.77.0.3", 20).median_ms, 5.0)
      << "outside the scope (avg: an emulated VM has slow outliers)";
  ASSERT_TRUE(engine.revert("d").ok());
  EXPECT_EQ(tc().find("fa1"), std::string::npos) << tc();
}

TEST_F(Netem, ComposedFaultsBecomeOneNetemQdisc) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("d", delay(10), 60s).ok());
  pb::FaultSpec dup, cor, re;
  *dup.mutable_network_duplicate()->mutable_scope() = scope();
  dup.mutable_network_duplicate()->set_fraction(0.1);
  *cor.mutable_network_corrupt()->mutable_scope() = scope();
  cor.mutable_network_corrupt()->set_fraction(0.05);
  *re.mutable_network_reorder()->mutable_scope() = scope();
  re.mutable_network_reorder()->set_fraction(0.25);
  re.mutable_network_reorder()->set_gap(5);
  ASSERT_TRUE(engine.apply("dup", dup, 60s).ok());
  ASSERT_TRUE(engine.apply("cor", cor, 60s).ok());
  ASSERT_TRUE(engine.apply("re", re, 60s).ok());
  std::string q = tc();
  for (const char* want : {"delay 10ms", "duplicate 10%", "corrupt 5%", "reorder 25%", "gap 5"})
    EXPECT_NE(q.find(want), std::string::npos) << want << " in\n" << q;
  ASSERT_TRUE(engine.revert("dup").ok());
  EXPECT_EQ(tc().find("duplicate"), std::string::npos) << tc();
  EXPECT_NE(tc().find("delay 10ms"), std::string::npos);
  // Without the delay, the reorder has nothing to overtake: it rests until the end.
  ASSERT_TRUE(engine.revert("d").ok());
  EXPECT_EQ(tc().find("reorder"), std::string::npos) << tc();
  EXPECT_NE(tc().find("corrupt 5%"), std::string::npos) << tc();
  ASSERT_TRUE(engine.revert("cor").ok());
  ASSERT_TRUE(engine.revert("re").ok());
  EXPECT_EQ(tc().find("fa17:"), std::string::npos) << tc();
}

TEST_F(Netem, AKilledInjectorsQdiscIsRemovedByTheNextStart) {
  TempDir state;
  std::string root = state.file("ledger");
  pid_t child = fork();
  if (child == 0) {
    FaultEngine* engine =
        std::move(start_engine(root)).value().release();  // never destroyed: a crash
    _exit(engine->apply("d", delay(40), 60s).ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(tc().find("netem fa17:"), std::string::npos);
  EXPECT_GE(net_.ping_from_a("10.77.0.2", 3).min_ms, 40.0) << "the qdisc outlived its owner";
  auto engine = std::move(start_engine(root)).value();
  EXPECT_EQ(tc().find("fa17:"), std::string::npos) << tc();
  EXPECT_LT(net_.ping_from_a("10.77.0.2", 10).median_ms, 5.0);
}

}  // namespace
}  // namespace faultline::injector
