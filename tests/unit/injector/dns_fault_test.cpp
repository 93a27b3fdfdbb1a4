// dns_fault against a real DNS server (dnsmasq, on a loopback address of a test namespace) and
// the real resolver paths: glibc (getent, over UDP and with use-vc over TCP) and dig, through
// the real kernel's REDIRECT and the real faultline-intercept helper. Each case checks what the
// clients get, what the helper counted, and that after revert nothing is left.
#include "injector/intercept/dns_fault_backend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <regex>
#include <thread>

#include "common/process_table.h"
#include "common/unique_fd.h"
#include "injector/network/netns.h"
#include "support/child_process.h"
#include "support/two_hosts.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;
using Clock = std::chrono::steady_clock;

// A resolver that keeps one UDP socket for all its queries (one source port, so one conntrack
// flow for its whole life): connected to `server` port 53 from inside `netns`.
UniqueFd resolver_socket(const std::string& netns, const std::string& server) {
  ScopedNetns in(netns);
  if (!in.ok()) return UniqueFd();
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(53);
  ::inet_pton(AF_INET, server.c_str(), &a.sin_addr);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
  return fd;
}

// The RCODE of the answer to an A query for `name` on that socket (0 NOERROR, 3 NXDOMAIN), or
// -1 when none came within a second or the socket heard a refusal (nothing listening).
int rcode_of(int fd, const std::string& name) {
  static uint16_t id = 0x4000;
  ++id;
  std::string q{
      static_cast<char>(id >> 8), static_cast<char>(id & 0xFF), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (size_t start = 0; start < name.size();) {
    size_t dot = std::min(name.find('.', start), name.size());
    q.push_back(static_cast<char>(dot - start));
    q.append(name, start, dot - start);
    start = dot + 1;
  }
  const char tail[] = {0, 0, 1, 0, 1};  // root label, type A, class IN
  q.append(tail, sizeof tail);
  if (::send(fd, q.data(), q.size(), 0) != static_cast<ssize_t>(q.size())) return -1;
  for (auto until = Clock::now() + 1s; Clock::now() < until;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    unsigned char r[512];
    ssize_t n = ::recv(fd, r, sizeof r, 0);
    if (n < 0) return -1;
    if (n >= 4 && r[0] == (id >> 8) && r[1] == (id & 0xFF)) return r[3] & 0x0F;
  }
  return -1;
}

class DnsFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ns_.ok()) GTEST_SKIP() << "needs root for a network namespace";
    if (capture("command -v dnsmasq dig") == "") GTEST_SKIP() << "dnsmasq and dig not installed";
    ASSERT_TRUE(ns_.ip("link set lo up"));
    // What `ip netns exec` shows the namespace's programs as /etc/resolv.conf.
    etc_ = "/etc/netns/" + ns_.name();
    ::mkdir("/etc/netns", 0755);
    ::mkdir(etc_.c_str(), 0755);
    write_file(etc_ + "/resolv.conf", "nameserver 127.0.0.153\noptions timeout:1 attempts:1\n");
    dnsmasq_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/sbin/ip", "netns", "exec", ns_.name(), "dnsmasq", "--keep-in-foreground",
        "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.153",
        "--user=root", "--pid-file=", "--address=/api.example.test/10.1.2.3",
        "--address=/api.example.test/fd00::3", "--address=/db1.corp.test/10.1.2.4",
        "--address=/flaky.example.test/10.1.2.5", "--address=/pay.payments.test/10.1.2.6"});
    ASSERT_TRUE(wait_until([&] { return dig("api.example.test") == "10.1.2.3"; }, 5000ms));
  }
  void TearDown() override {
    if (applied_) {
      EXPECT_TRUE(backend_.revert(*applied_));
    }
    dnsmasq_.reset();
    ::unlink((etc_ + "/resolv.conf").c_str());
    ::rmdir(etc_.c_str());
  }
  std::string in_ns(const std::string& cmd) {
    return capture("ip netns exec " + ns_.name() + " " + cmd + " 2>&1");
  }
  // dig's short answer (or its status line when there is no answer).
  std::string dig(const std::string& name, const std::string& extra = "") {
    std::string out = in_ns("dig +time=1 +tries=1 " + extra + " @127.0.0.153 " + name);
    std::smatch m;
    if (std::regex_search(out, m, std::regex("status: ([A-Z]+)")) && m[1] != "NOERROR") return m[1];
    if (out.find("timed out") != std::string::npos || out.find("no servers") != std::string::npos)
      return "TIMEOUT";
    if (std::regex_search(out, m, std::regex("IN[ \\t]+(A|AAAA)[ \\t]+(\\S+)"))) return m[2];
    return "NODATA";
  }
  pb::DnsRule* rule(pb::FaultSpec& s, std::vector<std::string> names, const std::string& answer) {
    auto* r = s.mutable_dns_fault()->add_rules();
    for (auto& n : names) r->add_names(n);
    r->set_answer(answer);
    r->set_percent(1);
    return r;
  }
  pb::FaultSpec spec() {
    pb::FaultSpec s;
    s.mutable_dns_fault()->mutable_scope()->set_netns(ns_.name());
    s.mutable_dns_fault()->set_drain_ms(1000);
    s.mutable_dns_fault()->set_seed(3);
    return s;
  }
  void apply(const pb::FaultSpec& s) {
    auto a = backend_.apply("dns-fault-test-1", s);
    ASSERT_TRUE(a) << a.error().message;
    applied_ = *a;
  }
  void revert_and_check_clean() {
    const auto helper = applied_->state.network().helper();
    EXPECT_TRUE(backend_.revert(*applied_));
    applied_.reset();
    EXPECT_EQ(faultline_chains(ns_.name()), "");
    EXPECT_FALSE(same_process_alive(helper.pid(), helper.start_time_ticks()));
    EXPECT_EQ(dig("db1.corp.test"), "10.1.2.4") << "direct again";
  }

  TestNetns ns_;
  std::string etc_;
  std::unique_ptr<ChildProcess> dnsmasq_;
  DnsFaultBackend backend_;
  std::optional<AppliedFault> applied_;
};

TEST_F(DnsFault, EveryAnswerOverUdpAndTcpThroughDigAndGlibc) {
  auto s = spec();
  rule(s, {"*.payments.test"}, "nxdomain");
  rule(s, {"regex:^db[0-9]+\\.corp\\.test$"}, "servfail");
  rule(s, {"refused.example.test"}, "refused");
  auto* addr = rule(s, {"api.example.test"}, "address");
  addr->add_addresses("10.9.9.9");
  rule(s, {"flaky.example.test"}, "timeout");
  apply(s);
  for (const std::string tcp : {"+notcp", "+tcp"}) {
    SCOPED_TRACE(tcp);
    EXPECT_EQ(dig("pay.payments.test", tcp), "NXDOMAIN");
    EXPECT_EQ(dig("db1.corp.test", tcp), "SERVFAIL");
    EXPECT_EQ(dig("refused.example.test", tcp), "REFUSED");
    EXPECT_EQ(dig("api.example.test", tcp), "10.9.9.9");
    EXPECT_EQ(dig("api.example.test AAAA", tcp), "NODATA")
        << "no forged record of the other family";
    EXPECT_EQ(dig("flaky.example.test", tcp), "TIMEOUT");
  }
  // The real resolver path: glibc reads the namespace's resolv.conf.
  EXPECT_EQ(in_ns("getent hosts api.example.test"), "10.9.9.9        api.example.test\n");
  EXPECT_EQ(in_ns("sh -c 'getent hosts pay.payments.test; echo rc=$?'"), "rc=2\n");
  // glibc over TCP (use-vc): its queries are counted as TCP ones.
  std::string before = backend_.achieved(*applied_);
  EXPECT_EQ(in_ns("env RES_OPTIONS=use-vc getent hosts api.example.test"),
            "10.9.9.9        api.example.test\n");
  std::string report = backend_.achieved(*applied_);
  std::smatch b, a;
  std::regex tcp("\\(([0-9]+) over TCP\\)");
  ASSERT_TRUE(std::regex_search(before, b, tcp)) << before;
  ASSERT_TRUE(std::regex_search(report, a, tcp)) << report;
  EXPECT_GT(std::stoi(a[1]), std::stoi(b[1])) << "glibc's use-vc lookup went over TCP";
  EXPECT_TRUE(std::regex_search(report, std::regex("over TCP\\): [0-9]+ answered by the rules, 2 "
                                                   "left unanswered")))
      << report;
  revert_and_check_clean();
  EXPECT_EQ(dig("api.example.test"), "10.1.2.3");
  EXPECT_EQ(dig("flaky.example.test"), "10.1.2.5");
}

TEST_F(DnsFault, NamesNoRuleTakesAreTheServersAnswersAndDelayIsLate) {
  auto s = spec();
  auto* slow = rule(s, {"db1.corp.test"}, "delay");
  slow->set_delay_us(400000);
  apply(s);
  EXPECT_EQ(dig("api.example.test"), "10.1.2.3");
  EXPECT_EQ(dig("api.example.test AAAA"), "fd00::3");
  for (const std::string tcp : {"+notcp", "+tcp"}) {
    auto t0 = Clock::now();
    EXPECT_EQ(dig("db1.corp.test", tcp), "10.1.2.4");
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    EXPECT_GE(ms, 400) << tcp;
    EXPECT_LT(ms, 950) << tcp;
  }
  revert_and_check_clean();
}

TEST_F(DnsFault, PercentIsDrawnPerQuery) {
  auto s = spec();
  rule(s, {"api.example.test"}, "nxdomain")->set_percent(0.3);
  apply(s);
  const int n = 400;
  std::string batch;
  for (int i = 0; i < n; ++i) batch += "api.example.test\n";
  write_file("/tmp/faultline-dns-batch-" + ns_.name(), batch);
  std::string out =
      in_ns("dig +time=1 +tries=1 @127.0.0.153 -f /tmp/faultline-dns-batch-" + ns_.name());
  ::unlink(("/tmp/faultline-dns-batch-" + ns_.name()).c_str());
  int nx = 0, ok = 0;
  for (size_t at = 0; (at = out.find("status: ", at)) != std::string::npos; ++at) {
    if (out.compare(at + 8, 8, "NXDOMAIN") == 0) ++nx;
    if (out.compare(at + 8, 7, "NOERROR") == 0) ++ok;
  }
  EXPECT_EQ(nx + ok, n);
  EXPECT_NEAR(nx, n * 0.3, 3 * std::sqrt(n * 0.3 * 0.7)) << nx << " of " << n;
  revert_and_check_clean();
}

TEST_F(DnsFault, AKilledHelperTakesItsRulesWithIt) {
  auto s = spec();
  rule(s, {"api.example.test"}, "nxdomain");
  apply(s);
  EXPECT_EQ(dig("api.example.test"), "NXDOMAIN");
  ::kill(applied_->state.network().helper().pid(), SIGKILL);
  EXPECT_TRUE(wait_until([&] { return faultline_chains(ns_.name()) == ""; }, 5000ms));
  EXPECT_EQ(dig("api.example.test"), "10.1.2.3");
  revert_and_check_clean();
}

// A resolver keeping one socket has a conntrack flow from before the fault, and NAT is decided
// once per flow: without moving that flow, its queries would go on reaching the server for as
// long as the flow lives, and after the fault reach the gone helper. Conntrack is on in the
// namespace beforehand, as on any node with Docker or Kubernetes (a rule that needs it).
TEST_F(DnsFault, AResolverKeepingOneSocketIsFaultedAndThenReleased) {
  ASSERT_EQ(in_ns("iptables -A INPUT -m conntrack --ctstate INVALID -j DROP"), "");
  UniqueFd sock = resolver_socket(ns_.name(), "127.0.0.153");
  ASSERT_TRUE(sock);
  ASSERT_EQ(rcode_of(sock.get(), "api.example.test"), 0);
  auto s = spec();
  rule(s, {"api.example.test"}, "nxdomain");
  apply(s);
  EXPECT_EQ(rcode_of(sock.get(), "api.example.test"), 3) << "the open flow was not faulted";
  EXPECT_TRUE(std::regex_search(applied_->state.summary(),
                                std::regex("; [1-9][0-9]* UDP flows? open before the fault moved")))
      << applied_->state.summary();
  revert_and_check_clean();
  EXPECT_EQ(rcode_of(sock.get(), "api.example.test"), 0) << "not straight to the server again";

  // The same when the helper dies: the injector takes the rules out and releases the flow.
  apply(s);
  EXPECT_EQ(rcode_of(sock.get(), "api.example.test"), 3);
  ::kill(applied_->state.network().helper().pid(), SIGKILL);
  EXPECT_TRUE(wait_until([&] { return faultline_chains(ns_.name()) == ""; }, 5000ms));
  EXPECT_TRUE(wait_until([&] { return rcode_of(sock.get(), "api.example.test") == 0; }, 3000ms))
      << "the flow still leads to the killed helper";
  revert_and_check_clean();
}

TEST(ResolvConf, NameserversAsGlibcReadsThem) {
  EXPECT_EQ(resolv_conf_servers("# c\nsearch x\nnameserver 10.0.0.1\nnameserver  fd00::53\n"
                                "nameserver not-an-ip\nnameserver 1.1.1.1\nnameserver 2.2.2.2\n"),
            (std::vector<std::string>{"10.0.0.1", "fd00::53", "1.1.1.1"}));
}

}  // namespace
}  // namespace faultline::injector
