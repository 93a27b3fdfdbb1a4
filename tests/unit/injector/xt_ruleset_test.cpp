// faultline's in-process x_tables programming (xt_ruleset.h, through libiptc), checked against
// iptables itself: the same chains written by iptables-legacy-restore into a second namespace
// must read back identically with iptables-legacy-save, so every entry we build by hand is the
// one iptables would have built.
#include "injector/network/xt_ruleset.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <sstream>
#include <thread>

#include "support/child_process.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;
using namespace std::chrono_literals;

class XtRuleset : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!net_.ok() || !other_.ok()) GTEST_SKIP() << "needs root for a network namespace";
    if (!xt_available()) GTEST_SKIP() << "no x_tables in this kernel";
  }
  // The table as iptables-legacy-save prints it, without the comment and counter lines.
  static std::string saved(const TestNetns& ns, int family, const std::string& table) {
    std::string out =
        capture("ip netns exec " + ns.name() + " " + (family == 6 ? "ip6tables" : "iptables") +
                "-legacy-save -t " + table + " 2>&1");
    std::istringstream in(out);
    std::string line, kept;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      if (line[0] == ':') line = line.substr(0, line.find(' '));  // policy and counters vary
      kept += line + "\n";
    }
    return kept;
  }
  static bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
  }

  ChainSpec queue_spec() {
    ChainSpec c;
    c.flavour = "legacy";
    c.netns = net_.name();
    c.family = 4;
    c.table = "mangle";
    c.hook = "POSTROUTING";
    c.hook_match = {"-o", "lo"};
    c.chain = "fl-12345678-q4o";
    c.rules = {{"-d", "10.0.0.0/8", "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-m",
                "mark", "!", "--mark", "1178686804", "-j", "NFQUEUE", "--queue-balance",
                "30000:30001", "--queue-bypass"},
               {"!", "-s", "192.168.7.1/32", "-p", "udp", "--sport", "53", "-j", "NFQUEUE",
                "--queue-num", "7"}};
    return c;
  }
  ChainSpec drop_spec() {
    ChainSpec c = queue_spec();
    c.table = "filter";
    c.hook = "INPUT";
    c.chain = "fl-12345678-p6i";
    c.family = 6;
    c.hook_match = {"!", "-i", "lo"};
    c.rules = {{"-s", "fd00::5/128", "-p", "udp", "--sport", "53", "-j", "DROP"},
               {"-d", "fd00:1::/64", "-p", "ipv6-icmp", "-j", "DROP"}};
    return c;
  }
  // What iptables-legacy-restore makes of the same spec (the old process path's text).
  static void restore(const TestNetns& ns, const ChainSpec& c) {
    auto joined = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
      return s;
    };
    std::string text = "*" + c.table + "\n:" + c.chain + " - [0:0]\n";
    for (const auto& r : c.rules) {
      // One rule per port, as the in-process path writes a multiport list.
      std::vector<std::string> args;
      std::string ports;
      for (size_t i = 0; i < r.size(); ++i) {
        if (r[i] == "-m" && r[i + 1] == "multiport") {
          ++i;
          continue;
        }
        if (r[i] == "--dports" || r[i] == "--sports") {
          args.push_back(r[i] == "--dports" ? "--dport" : "--sport");
          ports = r[++i];
          args.push_back("PORT");
          continue;
        }
        args.push_back(r[i]);
      }
      std::vector<std::string> each;
      if (ports.empty()) each.push_back("");
      for (size_t at = 0; !ports.empty() && at <= ports.size();) {
        size_t comma = ports.find(',', at);
        each.push_back(ports.substr(at, comma == std::string::npos ? comma : comma - at));
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
      for (const auto& p : each) {
        std::vector<std::string> a = args;
        for (auto& x : a)
          if (x == "PORT") x = p;
        text += "-A " + c.chain + " " + joined(a) + "\n";
      }
    }
    text += "-I " + c.hook + " 1 " + joined(c.hook_match) + " -j " + c.chain + "\nCOMMIT\n";
    std::string file = "/tmp/faultline-xt-test-" + std::to_string(::getpid());
    FILE* f = std::fopen(file.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    std::string out =
        capture("ip netns exec " + ns.name() + " " + (c.family == 6 ? "ip6tables" : "iptables") +
                "-legacy-restore --noflush < " + file + " 2>&1");
    ::unlink(file.c_str());
    ASSERT_EQ(out, "") << text;
  }

  TestNetns net_;
  TestNetns other_;
};

TEST_F(XtRuleset, EntriesAreWhatIptablesItselfWritesAndRemovalLeavesNothing) {
  ChainSpec other_fault = drop_spec();
  other_fault.chain = "fl-87654321-p6i";
  ASSERT_TRUE(xt_install({queue_spec(), drop_spec(), other_fault}));
  ChainSpec q = queue_spec(), d = drop_spec(), o = other_fault;
  q.netns = d.netns = o.netns = other_.name();
  restore(other_, q);
  restore(other_, d);
  restore(other_, o);
  std::string mangle = saved(net_, 4, "mangle"), filter6 = saved(net_, 6, "filter");
  EXPECT_EQ(mangle, saved(other_, 4, "mangle"));
  EXPECT_EQ(filter6, saved(other_, 6, "filter"));
  // And what that is, in iptables' words.
  EXPECT_TRUE(has(mangle, "-A POSTROUTING -o lo -j fl-12345678-q4o")) << mangle;
  EXPECT_TRUE(has(mangle,
                  "--dport 443 -m mark ! --mark 0x46415554 -j NFQUEUE --queue-balance "
                  "30000:30001 --queue-bypass"))
      << mangle;
  EXPECT_TRUE(has(mangle, "! -s 192.168.7.1/32 -p udp -m udp --sport 53 -j NFQUEUE --queue-num 7"))
      << mangle;
  EXPECT_TRUE(has(filter6, "-A INPUT ! -i lo -j fl-12345678-p6i")) << filter6;
  EXPECT_TRUE(has(filter6, "-s fd00::5/128 -p udp -m udp --sport 53 -j DROP")) << filter6;

  // One fault's chains go; the other fault's stay.
  ASSERT_TRUE(xt_remove(net_.name(), {{4, "mangle", "fl-12345678-q4o"},
                                      {6, "filter", "fl-12345678-p6i"},
                                      {4, "filter", "fl-00000000-x"}}));
  mangle = saved(net_, 4, "mangle");
  filter6 = saved(net_, 6, "filter");
  EXPECT_FALSE(has(mangle, "fl-")) << mangle;
  EXPECT_FALSE(has(filter6, "fl-12345678")) << filter6;
  EXPECT_TRUE(has(filter6, "-A INPUT ! -i lo -j fl-87654321-p6i")) << filter6;
  EXPECT_TRUE(xt_remove(net_.name(), {{4, "mangle", "fl-12345678-q4o"}})) << "idempotent";
  ASSERT_TRUE(xt_remove(net_.name(), {{6, "filter", "fl-87654321-p6i"}}));
  EXPECT_FALSE(has(saved(net_, 6, "filter"), "fl-"));
}

TEST_F(XtRuleset, AChainLeftByACrashIsReplacedNotDoubledAndTheUsersRulesStay) {
  ASSERT_EQ(capture("ip netns exec " + net_.name() +
                    " iptables-legacy -t mangle -A POSTROUTING -p tcp --dport 22 -j ACCEPT 2>&1"),
            "");
  ASSERT_TRUE(xt_install({queue_spec()}));
  ASSERT_TRUE(xt_install({queue_spec()}));
  std::string mangle = saved(net_, 4, "mangle");
  size_t jumps = 0;
  for (size_t at = mangle.find("-j fl-12345678-q4o"); at != std::string::npos;
       at = mangle.find("-j fl-12345678-q4o", at + 1))
    ++jumps;
  EXPECT_EQ(jumps, 1u) << mangle;
  EXPECT_TRUE(has(mangle, "-A POSTROUTING -p tcp -m tcp --dport 22 -j ACCEPT")) << mangle;
  ASSERT_TRUE(xt_remove(net_.name(), {{4, "mangle", "fl-12345678-q4o"}}));
  mangle = saved(net_, 4, "mangle");
  EXPECT_FALSE(has(mangle, "fl-")) << mangle;
  EXPECT_TRUE(has(mangle, "-A POSTROUTING -p tcp -m tcp --dport 22 -j ACCEPT")) << mangle;
}

TEST_F(XtRuleset, WhatItCannotExpressIsAnErrorAndNothingIsLeft) {
  ChainSpec bad = queue_spec();
  bad.rules = {{"-m", "owner", "--uid-owner", "0", "-j", "DROP"}};
  auto s = xt_install({bad});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("x_tables: cannot express -m owner"), std::string::npos)
      << s.error().message;
  EXPECT_FALSE(has(saved(net_, 4, "mangle"), "fl-")) << "nothing is committed";
  bad.rules = {{"-p", "tcp", "--dport", "0", "-j", "DROP"}};
  EXPECT_FALSE(xt_install({bad}));
  bad.rules = {{"--dport", "80", "-j", "DROP"}};
  EXPECT_FALSE(xt_install({bad})) << "a port needs -p tcp or udp";
  EXPECT_FALSE(has(saved(net_, 4, "mangle"), "fl-"));
}

TEST_F(XtRuleset, WaitsForIptablesOwnLockLikeIptablesDoes) {
  // Another iptables holding /run/xtables.lock is changing the table: we must not read it
  // until that is done, or one of the two changes would be lost.
  int fd = ::open("/run/xtables.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto installing = std::async(std::launch::async, [&] { return xt_install({queue_spec()}); });
  EXPECT_EQ(installing.wait_for(300ms), std::future_status::timeout);
  EXPECT_FALSE(has(saved(net_, 4, "mangle"), "fl-"));
  ::close(fd);  // releases the lock
  ASSERT_EQ(installing.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(installing.get());
  EXPECT_TRUE(has(saved(net_, 4, "mangle"), "-j fl-12345678-q4o"));
  ASSERT_TRUE(xt_remove(net_.name(), {{4, "mangle", "fl-12345678-q4o"}}));
}

TEST_F(XtRuleset, AGoneNamespaceHasNothingToRemove) {
  EXPECT_TRUE(xt_remove("fl-no-such-namespace", {{4, "mangle", "fl-12345678-q4o"}}));
}

}  // namespace
}  // namespace faultline::injector
