// REDIRECT rules (the nat table) in both in-process flavours, checked by what the kernel then
// does with a real connection: it lands on the redirect port, the original destination is
// still readable (SO_ORIGINAL_DST), a marked socket passes untouched, and after removal
// nothing is redirected any more.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/netns.h"
#include "injector/network/nft_ruleset.h"
#include "injector/network/xt_ruleset.h"
#include "support/child_process.h"
#include "support/two_hosts.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;

constexpr uint32_t kMark = 0x46415555;

class RedirectRules : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!net_.ok()) GTEST_SKIP() << "needs root for a network namespace";
    if (GetParam() == "legacy" && !xt_available()) GTEST_SKIP() << "no x_tables";
    if (GetParam() == kInProcess && !nft_netlink_available()) GTEST_SKIP() << "no nf_tables";
    ASSERT_TRUE(net_.ip("link set lo up"));
  }
  ChainSpec spec(int family) {
    ChainSpec c;
    c.flavour = GetParam();
    c.netns = net_.name();
    c.family = family;
    c.table = "nat";
    c.hook = "OUTPUT";
    c.chain = family == 4 ? "fl-0000abcd-h4o" : "fl-0000abcd-h6o";
    c.rules = {{"-p", "tcp", "--dport", "8081", "-m", "mark", "!", "--mark", std::to_string(kMark),
                "-j", "REDIRECT", "--to-ports", "8082"}};
    return c;
  }
  // A listener on 8082 (both families) inside the namespace.
  UniqueFd listen_in_ns() {
    ScopedNetns in(net_.name());
    EXPECT_TRUE(in.ok()) << in.error();
    UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int zero = 0, one = 1;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(8082);
    a.sin6_addr = in6addr_any;
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd.get(), 8), 0);
    return fd;
  }
  // Connects from inside the namespace to port 8081 of loopback; the connected socket or -1.
  UniqueFd connect_in_ns(int family, uint32_t mark = 0) {
    ScopedNetns in(net_.name());
    UniqueFd fd(::socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (mark) ::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    int rc;
    if (family == 4) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(8081);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(8081);
      a.sin6_addr = in6addr_loopback;
      rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    return rc == 0 ? std::move(fd) : UniqueFd();
  }
  // The original destination port of an accepted, redirected connection.
  static int original_port(int fd, int family) {
    if (family == 4) {
      sockaddr_in a{};
      socklen_t len = sizeof a;
      if (::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &a, &len) != 0) return -1;
      return ntohs(a.sin_port);
    }
    sockaddr_in6 a{};
    socklen_t len = sizeof a;
    if (::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &a, &len) != 0) return -1;
    return ntohs(a.sin6_port);
  }

  TestNetns net_;
};

TEST_P(RedirectRules, NewConnectionsLandOnTheRedirectPortUntilRemoved) {
  UniqueFd listener = listen_in_ns();
  pb::NetworkInstall install;
  install.set_netns(netns_path(net_.name()));
  install.set_netns_inode(netns_inode(net_.name()));
  Status installed = install_chains({spec(4), spec(6)}, install);
  ASSERT_TRUE(installed) << installed.error().message;
  for (int family : {4, 6}) {
    SCOPED_TRACE(family);
    UniqueFd c = connect_in_ns(family);
    ASSERT_TRUE(c) << "redirected connect must reach the listener on 8082";
    UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(accepted);
    EXPECT_EQ(original_port(accepted.get(), family), 8081);
    // The interceptor's own traffic carries the mark and is not redirected: nothing listens
    // on 8081, so it is refused.
    EXPECT_FALSE(connect_in_ns(family, kMark));
  }
  ASSERT_TRUE(remove_recorded_chains(install));
  EXPECT_EQ(faultline_chains(net_.name()), "");
  for (int family : {4, 6}) EXPECT_FALSE(connect_in_ns(family)) << "still redirected";
}

INSTANTIATE_TEST_SUITE_P(Flavours, RedirectRules, ::testing::Values("legacy", kInProcess),
                         [](const auto& p) {
                           return p.param == "legacy" ? std::string("Legacy")
                                                      : std::string("NfTables");
                         });

TEST(RedirectRuleParse, NeedsAPortAndAProtocol) {
  EXPECT_FALSE(install_chain([] {
    ChainSpec c;
    c.netns = "";
    c.table = "nat";
    c.hook = "OUTPUT";
    c.chain = "fl-0000abcd-h4o";
    c.rules = {{"-p", "tcp", "-j", "REDIRECT"}};
    return c;
  }()));
}

}  // namespace
}  // namespace faultline::injector
