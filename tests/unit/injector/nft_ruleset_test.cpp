// faultline's own nf_tables programming (nft_ruleset.h), checked with Debian's `nft`, which
// reads the kernel's ruleset independently of our code.
#include "injector/network/nft_ruleset.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

class NftRuleset : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!net_.ok()) GTEST_SKIP() << "needs root for a network namespace";
    if (!nft_netlink_available()) GTEST_SKIP() << "no nf_tables in this kernel";
  }
  std::string ruleset() { return capture("ip netns exec " + net_.name() + " nft list ruleset"); }

  ChainSpec queue_spec() {
    ChainSpec c;
    c.flavour = kInProcess;
    c.netns = net_.name();
    c.family = 4;
    c.table = "mangle";
    c.hook = "POSTROUTING";
    c.hook_match = {"-o", "lo"};
    c.chain = "fl-12345678-q4o";
    c.rules = {{"-d", "10.0.0.0/8", "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-m",
                "mark", "!", "--mark", "1178686804", "-j", "NFQUEUE", "--queue-balance",
                "30000:30001", "--queue-bypass"}};
    return c;
  }
  ChainSpec drop_spec() {
    ChainSpec c = queue_spec();
    c.table = "filter";
    c.hook = "INPUT";
    c.chain = "fl-12345678-p6i";
    c.family = 6;
    c.hook_match = {"!", "-i", "lo"};
    c.rules = {{"-s", "fd00::5/128", "-p", "udp", "--sport", "53", "-j", "DROP"}};
    return c;
  }

  TestNetns net_;
};

TEST_F(NftRuleset, RulesGoInTaggedAndLeaveInOneRemoval) {
  ASSERT_TRUE(nft_install({queue_spec(), drop_spec()}));
  std::string r = ruleset();
  EXPECT_NE(r.find("table ip faultline"), std::string::npos) << r;
  EXPECT_NE(r.find("type filter hook postrouting priority mangle"), std::string::npos) << r;
  EXPECT_NE(r.find("oifname \"lo\""), std::string::npos) << r;
  EXPECT_NE(r.find("ip daddr 10.0.0.0/8"), std::string::npos) << r;
  // multiport becomes one rule per port.
  EXPECT_NE(r.find("tcp dport 80"), std::string::npos) << r;
  EXPECT_NE(r.find("tcp dport 443"), std::string::npos) << r;
  EXPECT_NE(r.find("meta mark != 0x46415554"), std::string::npos) << r;
  // xt_NFQUEUE through nft_compat, which nft shows in its own words.
  EXPECT_NE(r.find("queue num 30000-30001 bypass"), std::string::npos) << r;
  EXPECT_NE(r.find("comment \"fl-12345678-q4o\""), std::string::npos) << r;
  EXPECT_NE(r.find("table ip6 faultline"), std::string::npos) << r;
  EXPECT_NE(r.find("type filter hook input priority filter"), std::string::npos) << r;
  EXPECT_NE(r.find("iifname != \"lo\""), std::string::npos) << r;
  EXPECT_NE(r.find("ip6 saddr fd00::5"), std::string::npos) << r;
  EXPECT_NE(r.find("udp sport 53"), std::string::npos) << r;
  EXPECT_NE(r.find("drop"), std::string::npos) << r;
  EXPECT_TRUE(nft_rules_exist(net_.name(), 4, "fl-12345678-q4o"));

  // Another fault's rules in the same chains stay when the first goes.
  ChainSpec other = drop_spec();
  other.chain = "fl-87654321-p6i";
  ASSERT_TRUE(nft_install({other}));
  ASSERT_TRUE(nft_remove(net_.name(),
                         {{4, "fl-12345678-q4o"}, {6, "fl-12345678-p6i"}, {4, "fl-00000000-x"}}));
  EXPECT_FALSE(nft_rules_exist(net_.name(), 4, "fl-12345678-q4o"));
  EXPECT_FALSE(nft_rules_exist(net_.name(), 6, "fl-12345678-p6i"));
  EXPECT_TRUE(nft_rules_exist(net_.name(), 6, "fl-87654321-p6i"));
  EXPECT_TRUE(nft_remove(net_.name(), {{4, "fl-12345678-q4o"}})) << "removal is idempotent";
  ASSERT_TRUE(nft_remove(net_.name(), {{6, "fl-87654321-p6i"}}));
  // The emptied tables leave shortly after, off the revert's path.
  EXPECT_TRUE(wait_until([&] { return ruleset().empty(); }, 5s)) << ruleset();
}

TEST_F(NftRuleset, AnEmptiedTableStaysWhileAnotherFaultMovesIn) {
  ASSERT_TRUE(nft_install({drop_spec()}));
  ASSERT_TRUE(nft_remove(net_.name(), {{6, "fl-12345678-p6i"}}));
  ASSERT_TRUE(nft_install({drop_spec()}));  // before the delayed removal of the table
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(nft_rules_exist(net_.name(), 6, "fl-12345678-p6i")) << ruleset();
  ASSERT_TRUE(nft_remove(net_.name(), {{6, "fl-12345678-p6i"}}));
}

TEST_F(NftRuleset, RulesLeftByACrashAreReplacedNotDoubled) {
  ASSERT_TRUE(nft_install({queue_spec()}));
  ASSERT_TRUE(nft_install({queue_spec()}));
  std::string r = ruleset();
  size_t count = 0;
  for (size_t at = r.find("dport 443"); at != std::string::npos; at = r.find("dport 443", at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << r;
  ASSERT_TRUE(nft_remove(net_.name(), {{4, "fl-12345678-q4o"}}));
}

TEST_F(NftRuleset, WhatItCannotExpressIsAnErrorAndNothingIsLeft) {
  ChainSpec bad = queue_spec();
  bad.rules = {{"-m", "owner", "--uid-owner", "0", "-j", "DROP"}};
  auto s = nft_install({drop_spec(), bad});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("-m owner"), std::string::npos) << s.error().message;
  EXPECT_EQ(ruleset(), "") << "a failed transaction leaves nothing";
  bad.rules = {{"-j", "REJECT"}};
  EXPECT_FALSE(nft_install({bad}));
}

TEST_F(NftRuleset, AGoneNamespaceHasNothingToRemove) {
  EXPECT_TRUE(nft_remove("fl-no-such-namespace", {{4, "fl-12345678-q4o"}}));
  EXPECT_FALSE(nft_rules_exist("fl-no-such-namespace", 4, "fl-12345678-q4o"));
}

}  // namespace
}  // namespace faultline::injector
