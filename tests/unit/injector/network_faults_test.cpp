// Network faults measured on a real two-host network (namespaces + veth, made by the test):
// the nfqueue engine (this kernel has no sch_netem), partitions, bandwidth, composition,
// crash recovery. Numbers come from real tools (ping, iperf3) and from our own sockets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>
#include <thread>

#include "injector/fault_engine.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/netns.h"
#include "injector/network/qdisc_tree.h"
#include "support/two_hosts.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;
using Clock = std::chrono::steady_clock;

// A socket created inside a namespace stays there; the test thread returns home at once.
int socket_in(const std::string& netns, int type) {
  ScopedNetns in(netns);
  return in.ok() ? ::socket(AF_INET, type | SOCK_CLOEXEC, 0) : -1;
}

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A listener in B; the kernel completes handshakes without accept(), which is all a
// connect-time probe needs.
int listen_in(const std::string& netns, int port) {
  int fd = socket_in(netns, SOCK_STREAM);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = ipv4_address("0.0.0.0", port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Milliseconds a TCP connect from A takes, or -1 if it does not complete within timeout_ms.
double connect_ms(const std::string& netns, const char* ip, int port, int timeout_ms) {
  Fd fd(socket_in(netns, SOCK_STREAM));
  ::fcntl(fd.fd, F_SETFL, O_NONBLOCK);
  auto a = ipv4_address(ip, port);
  auto start = Clock::now();
  ::connect(fd.fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  pollfd p{fd.fd, POLLOUT, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return -1;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class NetworkFaults : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(net_.ok()) << "cannot build the two-host network (root?)"; }

  pb::NetworkScope scope(const std::string& direction = "egress") {
    pb::NetworkScope s;
    s.set_netns(net_.a());
    s.set_interface("a0");
    s.set_direction(direction);
    return s;
  }
  pb::FaultSpec delay(int ms, int jitter_ms = 0, const std::string& dist = "uniform") {
    pb::FaultSpec f;
    auto* d = f.mutable_network_delay();
    *d->mutable_scope() = scope();
    d->set_delay_us(ms * 1000);
    d->set_jitter_us(jitter_ms * 1000);
    d->set_distribution(dist);
    // The user-space engine is what this suite measures, also on hosts that have netem.
    d->set_backend("nfqueue");
    return f;
  }
  pb::FaultSpec loss(double fraction) {
    pb::FaultSpec f;
    *f.mutable_network_loss()->mutable_scope() = scope();
    f.mutable_network_loss()->set_fraction(fraction);
    f.mutable_network_loss()->set_model("random");
    f.mutable_network_loss()->set_backend("nfqueue");
    return f;
  }
  std::string our_chains() { return faultline_chains(net_.a()); }

  TwoHosts net_;
};

TEST_F(NetworkFaults, DelayRaisesRttByTheRequestedAmountAndRevertRestoresIt) {
  PingStats base = net_.ping_from_a("10.77.0.2", 100);
  ASSERT_EQ(base.received, 100);
  FaultEngine engine(default_backends());
  auto applied = engine.apply("d", delay(20), 60s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_NE(applied->summary().find("[nfqueue]"), std::string::npos) << applied->summary();
  // iptables says "-j NFQUEUE", nft "queue num" (the in-process nf_tables rules).
  std::string rules = our_chains();
  EXPECT_TRUE(rules.find("NFQUEUE") != std::string::npos ||
              rules.find("queue num") != std::string::npos)
      << rules;
  // Never early, and about the requested amount: the median from the best of up to five
  // samples may be a few ms late, because the CI machine is a VM whose host sometimes withholds
  // the CPU for seconds and makes every timer late (seen: +3 ms on all three). The engine's own
  // precision (tens of microseconds) is measured in bench/network_bench, not here.
  std::string seen;
  bool accurate = false;
  for (int attempt = 0; attempt < 5 && !accurate; ++attempt) {
    PingStats delayed = net_.ping_from_a("10.77.0.2", 200);
    EXPECT_EQ(delayed.received, 200);
    EXPECT_GE(delayed.min_ms, 20.0) << "a delayed packet is never early";
    double added = delayed.median_ms - base.median_ms;
    seen += std::to_string(added) + " ms; ";
    accurate = added >= 19.5 && added <= 25.0;
  }
  EXPECT_TRUE(accurate) << "added median delay per attempt: " << seen;
  ASSERT_TRUE(engine.revert("d").ok());
  ASSERT_TRUE(engine.revert("d").ok()) << "revert is idempotent";
  EXPECT_EQ(our_chains(), "");
  PingStats after = net_.ping_from_a("10.77.0.2", 100);
  EXPECT_LT(after.median_ms, base.median_ms + 0.5) << "back to baseline after revert";
}

TEST_F(NetworkFaults, JitterShowsTheRequestedSpread) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("j", delay(30, 6, "normal"), 60s).ok());
  // The interquartile range of a normal spread is 1.349 sigma; unlike ping's mdev it does
  // not move when the machine delays the odd reply. Best of five, as above: a host that
  // withholds the CPU for long stretches widens every sample it overlaps (CI saw 12.5, 9.2
  // and 7.6 ms in a row while it ran at half speed, then settled).
  std::string seen;
  bool accurate = false;
  for (int attempt = 0; attempt < 5 && !accurate; ++attempt) {
    PingStats s = net_.ping_from_a("10.77.0.2", 400);
    seen += std::to_string(s.median_ms) + " ± " + std::to_string(s.iqr_sigma_ms) + " ms; ";
    // A stalled host makes every packet late by about the same amount, so the spread holds
    // better than the median.
    accurate = s.median_ms >= 29.5 && s.median_ms <= 35.0 && std::abs(s.iqr_sigma_ms - 6.0) <= 1.5;
  }
  EXPECT_TRUE(accurate) << "median ± sigma per attempt: " << seen;
}

TEST_F(NetworkFaults, LossOverTwoThousandPacketsIsWithinThreePoints) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("l", loss(0.2), 60s).ok());
  PingStats s = net_.ping_from_a("10.77.0.2", 2000, 0.002);
  EXPECT_EQ(s.sent, 2000);
  EXPECT_NEAR(s.loss_percent, 20.0, 3.0);
  // The engine's own count goes to the journal.
  auto achieved = engine.revert("l");
  ASSERT_TRUE(achieved.ok());
  int seen = 0, dropped = 0;
  ASSERT_EQ(std::sscanf(achieved->c_str(), "%d packets seen, %d dropped", &seen, &dropped), 2)
      << *achieved;
  EXPECT_GE(seen, 2000);
  EXPECT_NEAR(100.0 * dropped / seen, 20.0, 3.0);
  EXPECT_EQ(net_.ping_from_a("10.77.0.2", 200, 0.002).received, 200);
}

TEST_F(NetworkFaults, GilbertElliottLossMatchesItsStationaryRate) {
  pb::FaultSpec f;
  auto* l = f.mutable_network_loss();
  *l->mutable_scope() = scope();
  l->set_model("gilbert-elliott");
  l->set_p(0.05);
  l->set_r(0.5);
  l->set_loss_bad(1.0);
  l->set_loss_good(0.0);
  l->set_backend("nfqueue");
  FaultEngine engine(default_backends());
  auto applied = engine.apply("ge", f, 60s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  PingStats s = net_.ping_from_a("10.77.0.2", 3000, 0.002);
  // Time in the bad state: p / (p + r) = 9.1%, and every packet there is lost.
  EXPECT_NEAR(s.loss_percent, 100.0 * 0.05 / 0.55, 3.0);
}

TEST_F(NetworkFaults, DuplicateAndCorruptHitTheirShareOfPackets) {
  FaultEngine engine(default_backends());
  pb::FaultSpec dup;
  *dup.mutable_network_duplicate()->mutable_scope() = scope();
  dup.mutable_network_duplicate()->set_fraction(0.3);
  dup.mutable_network_duplicate()->set_backend("nfqueue");
  ASSERT_TRUE(engine.apply("dup", dup, 60s).ok());
  PingStats s = net_.ping_from_a("10.77.0.2", 1000, 0.002);
  // Each duplicated request draws a second reply, which ping counts as a duplicate.
  EXPECT_NEAR(100.0 * s.duplicates / s.sent, 30.0, 4.0) << s.duplicates << " duplicates";
  ASSERT_TRUE(engine.revert("dup").ok());

  pb::FaultSpec cor;
  *cor.mutable_network_corrupt()->mutable_scope() = scope();
  cor.mutable_network_corrupt()->set_fraction(0.25);
  cor.mutable_network_corrupt()->set_backend("nfqueue");
  ASSERT_TRUE(engine.apply("cor", cor, 60s).ok());
  s = net_.ping_from_a("10.77.0.2", 1000, 0.002);
  auto achieved = engine.revert("cor");
  ASSERT_TRUE(achieved.ok());
  // The engine's own count: its share of what it saw is the requested fraction (binomial over
  // ~1000 packets: sd 1.4 points)...
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(*achieved, m, std::regex(R"((\d+) packets seen.* (\d+) corrupted)")))
      << *achieved;
  double seen = std::stod(m[1]), corrupted = std::stod(m[2]);
  ASSERT_GT(seen, 900) << *achieved;
  EXPECT_NEAR(100.0 * corrupted / seen, 25.0, 5.0) << *achieved;
  // ...and a flipped bit fails the ICMP checksum at B, so each corrupted request goes
  // unanswered: the loss ping sees is the engine's count, not a near miss of it.
  EXPECT_NEAR(s.loss_percent, 100.0 * corrupted / seen, 2.0) << *achieved;
}

TEST_F(NetworkFaults, ReorderSendsSomePacketsAheadOfDelayedOnes) {
  FaultEngine engine(default_backends());
  pb::FaultSpec f;
  auto* r = f.mutable_network_reorder();
  *r->mutable_scope() = scope();
  r->set_fraction(0.25);
  r->set_delay_us(10000);
  r->set_backend("nfqueue");
  ASSERT_TRUE(engine.apply("r", f, 60s).ok());
  Fd rx(socket_in(net_.b(), SOCK_DGRAM));
  int big = 4 << 20;  // all 400 datagrams wait unread until the end
  ::setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  auto to = ipv4_address("10.77.0.2", 9999);
  ASSERT_EQ(::bind(rx.fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  Fd tx(socket_in(net_.a(), SOCK_DGRAM));
  constexpr int kCount = 400;
  for (uint32_t i = 0; i < kCount; ++i) {
    ::sendto(tx.fd, &i, sizeof i, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    std::this_thread::sleep_for(1ms);
  }
  int got = 0, inversions = 0;
  uint32_t highest = 0, seq;
  pollfd p{rx.fd, POLLIN, 0};
  while (::poll(&p, 1, 200) == 1 && ::recv(rx.fd, &seq, sizeof seq, 0) == sizeof seq) {
    ++got;
    if (seq < highest) ++inversions;
    highest = std::max(highest, seq);
  }
  EXPECT_EQ(got, kCount) << "reordering must not lose packets";
  // Packets sent ahead overtake the ~10 delayed ones before them; what arrives after a
  // later-numbered packet is a delayed one that was overtaken.
  EXPECT_GT(inversions, kCount * 0.5);
  EXPECT_LT(inversions, kCount * 0.95);
}

TEST_F(NetworkFaults, ScopeLeavesOtherDestinationsAndPortsAlone) {
  FaultEngine engine(default_backends());
  auto to_2 = delay(30);
  to_2.mutable_network_delay()->mutable_scope()->add_destinations("10.77.0.2/32");
  ASSERT_TRUE(engine.apply("d", to_2, 60s).ok());
  EXPECT_GE(net_.ping_from_a("10.77.0.2", 20).min_ms, 30.0);
  EXPECT_LT(net_.ping_from_a("10.77.0.3", 20).median_ms, 5.0) << "10.77.0.3 is outside the scope";
  ASSERT_TRUE(engine.revert("d").ok());

  Fd l8080(listen_in(net_.b(), 8080)), l8081(listen_in(net_.b(), 8081));
  ASSERT_GE(l8080.fd, 0);
  auto port = delay(40);
  port.mutable_network_delay()->mutable_scope()->set_protocol("tcp");
  port.mutable_network_delay()->mutable_scope()->add_ports(8080);
  ASSERT_TRUE(engine.apply("p", port, 60s).ok());
  EXPECT_GE(connect_ms(net_.a(), "10.77.0.2", 8080, 2000), 40.0);
  // The fastest of three connects: one can be slowed by the machine, a delay slows all.
  double other = 1e9;
  for (int i = 0; i < 3; ++i) {
    double ms = connect_ms(net_.a(), "10.77.0.2", 8081, 2000);
    EXPECT_GE(ms, 0.0);
    other = std::min(other, ms);
  }
  EXPECT_LT(other, 5.0) << "port 8081 is outside the scope";
  EXPECT_LT(net_.ping_from_a("10.77.0.2", 10).median_ms, 5.0) << "icmp is outside the scope";
}

TEST_F(NetworkFaults, FaultsOnTheSameTrafficComposeAndOthersAreRefused) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("d", delay(15), 60s).ok());
  auto l = engine.apply("l", loss(0.3), 60s);
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_NE(l->summary().find("composed: delay 15ms, loss 30%"), std::string::npos) << l->summary();
  PingStats s = net_.ping_from_a("10.77.0.2", 1000, 0.005);
  EXPECT_GE(s.min_ms, 15.0);
  EXPECT_NEAR(s.loss_percent, 30.0, 4.5);

  auto other = delay(5);
  other.mutable_network_delay()->mutable_scope()->add_destinations("10.77.0.3/32");
  auto refused = engine.apply("o", other, 60s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("a0 is already shaped by fault d"), std::string::npos)
      << refused.error().message;
  auto twice = engine.apply("d2", delay(50), 60s);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("fault d already applies network_delay"), std::string::npos);

  // Taking one back leaves the other in force.
  ASSERT_TRUE(engine.revert("l").ok());
  s = net_.ping_from_a("10.77.0.2", 200, 0.005);
  EXPECT_EQ(s.received, 200);
  EXPECT_GE(s.min_ms, 15.0);
  ASSERT_TRUE(engine.revert("d").ok());
  EXPECT_EQ(our_chains(), "");
}

// The engine takes whole GSO packets for a fault that does not read bytes: a TCP transfer
// reaches it as far fewer packets than wire segments (one per ~1448 bytes), on several queues
// when there are several CPUs, and nothing is lost or left behind.
TEST_F(NetworkFaults, TcpReachesTheEngineAsWholeOffloadedPacketsOnSeveralQueues) {
  ChildProcess server({"/usr/sbin/ip", "netns", "exec", net_.b(), "iperf3", "-s", "-1", "-B",
                       "10.77.0.2", "-p", "5299"});
  ASSERT_TRUE(wait_until(
      [&] { return net_.in_b("ss -ltnH 'sport = :5299'").find("5299") != std::string::npos; }, 5s));
  FaultEngine engine(default_backends());
  pb::FaultSpec zero = delay(0);
  zero.mutable_network_delay()->mutable_scope()->set_direction("both");
  zero.mutable_network_delay()->mutable_scope()->set_protocol("tcp");
  zero.mutable_network_delay()->mutable_scope()->add_ports(5299);
  ASSERT_TRUE(engine.apply("z", zero, 60s).ok());
  std::string rules = our_chains();
  if (std::thread::hardware_concurrency() > 1) {
    EXPECT_TRUE(std::regex_search(rules, std::regex(R"(--queue-balance|queue num \d+-\d+)")))
        << rules;
  }
  const double bytes = 200e6;
  std::string out = net_.in_a("iperf3 -c 10.77.0.2 -p 5299 -n 200M -J 2>&1");
  auto achieved = engine.revert("z");
  ASSERT_TRUE(achieved.ok());
  EXPECT_NE(out.find("\"sum_received\""), std::string::npos) << out.substr(0, 400);
  long seen = std::atol(achieved->c_str());
  EXPECT_GT(seen, 0) << *achieved;
  EXPECT_LT(seen, bytes / 1448 / 4) << "segmented to the MTU before queueing? " << *achieved;
  EXPECT_EQ(our_chains(), "");
}

TEST_F(NetworkFaults, RevertReleasesHeldPacketsInsteadOfDroppingThem) {
  FaultEngine engine(default_backends());
  ASSERT_TRUE(engine.apply("d", delay(3000), 60s).ok());
  Fd rx(socket_in(net_.b(), SOCK_DGRAM));
  auto to = ipv4_address("10.77.0.2", 9998);
  ASSERT_EQ(::bind(rx.fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  Fd tx(socket_in(net_.a(), SOCK_DGRAM));
  for (uint32_t i = 0; i < 50; ++i)
    ::sendto(tx.fd, &i, sizeof i, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  std::this_thread::sleep_for(100ms);
  auto start = Clock::now();
  ASSERT_TRUE(engine.revert("d").ok());
  int got = 0;
  uint32_t seq;
  pollfd p{rx.fd, POLLIN, 0};
  while (::poll(&p, 1, 500) == 1 && ::recv(rx.fd, &seq, sizeof seq, 0) == sizeof seq) ++got;
  EXPECT_EQ(got, 50);
  EXPECT_LT(Clock::now() - start, 2s) << "held packets must be released at revert, not at 3 s";
}

TEST_F(NetworkFaults, PartitionCutsTheScopeBothWaysAndRevertHealsIt) {
  Fd l8080(listen_in(net_.b(), 8080)), l8081(listen_in(net_.b(), 8081));
  ASSERT_GE(l8080.fd, 0);
  FaultEngine engine(default_backends());
  pb::FaultSpec f;
  auto* p = f.mutable_network_partition();
  *p->mutable_scope() = scope();
  p->mutable_scope()->set_protocol("tcp");
  p->mutable_scope()->add_ports(8080);
  p->set_direction("both");
  auto applied = engine.apply("cut", f, 60s);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(connect_ms(net_.a(), "10.77.0.2", 8080, 300), -1) << "across the cut";
  EXPECT_GE(connect_ms(net_.a(), "10.77.0.2", 8081, 1000), 0.0) << "outside the cut";
  EXPECT_EQ(net_.ping_from_a("10.77.0.2", 5).received, 5);
  ASSERT_TRUE(engine.revert("cut").ok());
  EXPECT_GE(connect_ms(net_.a(), "10.77.0.2", 8080, 1000), 0.0) << "healed";
  EXPECT_EQ(our_chains(), "");

  pb::FaultSpec host;
  auto* h = host.mutable_network_partition();
  *h->mutable_scope() = scope();
  h->mutable_scope()->add_destinations("10.77.0.2");
  h->set_direction("egress");
  ASSERT_TRUE(engine.apply("host", host, 60s).ok());
  EXPECT_EQ(net_.ping_from_a("10.77.0.2", 5).received, 0);
  EXPECT_EQ(net_.ping_from_a("10.77.0.3", 5).received, 5);
}

// Throughput as iperf3 (a real tool, not ours) measures it, in Mbit/s.
double iperf_mbps(const TwoHosts& net) {
  ChildProcess server(
      {"/usr/bin/ip", "netns", "exec", net.b(), "iperf3", "-s", "-1", "-p", "5301"});
  std::string out;
  for (int i = 0; i < 20; ++i) {
    out = net.in_a("iperf3 -c 10.77.0.2 -p 5301 -t 2 -J");
    if (out.find("\"sum_received\"") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);  // the server is still starting
  }
  auto at = out.find("\"sum_received\"");
  if (at == std::string::npos) return -1;
  at = out.find("\"bits_per_second\":", at);
  return std::stod(out.substr(at + 18)) / 1e6;
}

TEST_F(NetworkFaults, BandwidthIsLimitedByTbfOrHtbAndRestoredOnRevert) {
  FaultEngine engine(default_backends());
  for (const char* backend : {"tbf", "htb"}) {
    SCOPED_TRACE(backend);
    pb::FaultSpec f;
    auto* b = f.mutable_network_bandwidth();
    *b->mutable_scope() = scope();
    b->set_rate_bps(8'000'000);
    b->set_burst_bytes(32 * 1024);
    b->set_limit_bytes(64 * 1024);
    b->set_backend(backend);
    auto applied = engine.apply("bw", f, 60s);
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    EXPECT_NE(net_.in_a(std::string("tc qdisc show dev a0")).find(std::string(backend) + " fa17:"),
              std::string::npos);
    double mbps = iperf_mbps(net_);
    EXPECT_NEAR(mbps, 8.0, 1.6) << "iperf3 measured " << mbps << " Mbit/s";
    ASSERT_TRUE(engine.revert("bw").ok());
    EXPECT_EQ(net_.in_a("tc qdisc show dev a0").find("fa17:"), std::string::npos);
  }
  EXPECT_GT(iperf_mbps(net_), 100.0) << "unlimited again";
}

TEST_F(NetworkFaults, AForeignRootQdiscIsNeverReplaced) {
  ASSERT_TRUE(
      net_.in_a("tc qdisc add dev a0 root handle 5: tbf rate 1gbit burst 64k limit 64k").empty());
  FaultEngine engine(default_backends());
  pb::FaultSpec f;
  *f.mutable_network_bandwidth()->mutable_scope() = scope();
  f.mutable_network_bandwidth()->set_rate_bps(1'000'000);
  f.mutable_network_bandwidth()->set_backend("tbf");
  auto refused = engine.apply("bw", f, 60s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("a0 has a tbf root qdisc (handle 5:) that faultline did "
                                         "not install"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(net_.in_a("tc qdisc show dev a0").find("tbf 5:"), std::string::npos);
}

TEST_F(NetworkFaults, NetemIsRefusedClearlyOnAKernelWithoutIt) {
  if (netem_available()) GTEST_SKIP() << "this kernel has sch_netem (tested in the VM suite)";
  FaultEngine engine(default_backends());
  auto f = delay(10);
  f.mutable_network_delay()->set_backend("netem");
  auto refused = engine.apply("n", f, 60s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("no sch_netem"), std::string::npos);
  // "auto" falls back to the user-space engine.
  f.mutable_network_delay()->set_backend("auto");
  auto fallback = engine.apply("a", f, 60s);
  ASSERT_TRUE(fallback.ok()) << fallback.error().message;
  EXPECT_NE(fallback->summary().find("[nfqueue]"), std::string::npos) << fallback->summary();
  auto caps = engine.capabilities();
  EXPECT_NE(std::find(caps.begin(), caps.end(), "network_delay:nfqueue"), caps.end());
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "network_delay:netem"), caps.end());
}

TEST_F(NetworkFaults, ARemovedNamespaceRevertsCleanly) {
  TestNetns gone;
  ASSERT_TRUE(gone.ip("link add x0 type veth peer name x1") && gone.ip("link set x0 up"));
  FaultEngine engine(default_backends());
  pb::FaultSpec f;
  auto* d = f.mutable_network_delay();
  d->mutable_scope()->set_netns(gone.name());
  d->mutable_scope()->set_interface("x0");
  d->set_delay_us(5000);
  ASSERT_TRUE(engine.apply("d", f, 60s).ok());
  pb::FaultSpec cut;
  cut.mutable_network_partition()->mutable_scope()->set_netns(gone.name());
  cut.mutable_network_partition()->mutable_scope()->add_destinations("192.0.2.0/24");
  ASSERT_TRUE(engine.apply("cut", cut, 60s).ok());
  // The "container" goes away (and a new one takes its name) while the faults are active.
  ASSERT_EQ(std::system(("ip netns del " + gone.name()).c_str()), 0);
  ASSERT_EQ(std::system(("ip netns add " + gone.name()).c_str()), 0);
  auto delay_note = engine.revert("d");
  auto cut_note = engine.revert("cut");
  ASSERT_TRUE(delay_note.ok() && cut_note.ok());
  // The journal says what happened.
  for (const auto& note : {*delay_note, *cut_note})
    EXPECT_NE(note.find("was replaced by a new one during the fault"), std::string::npos) << note;
  EXPECT_EQ(faultline_chains(gone.name()), "")
      << "nothing was installed into the new namespace of the same name";
}

TEST_F(NetworkFaults, AKilledInjectorLeavesNothingAfterTheNextStart) {
  TempDir state;
  std::string root = state.file("ledger");
  auto part = delay(1);
  part.clear_network_delay();
  auto* p = part.mutable_network_partition();
  *p->mutable_scope() = scope();
  p->mutable_scope()->add_destinations("10.77.0.3/32");
  pb::FaultSpec bw;
  auto* b = bw.mutable_network_bandwidth();
  b->mutable_scope()->set_netns(net_.b());
  b->mutable_scope()->set_interface("b0");
  b->set_rate_bps(1'000'000);
  b->set_backend("tbf");
  pid_t child = fork();
  if (child == 0) {
    FaultEngine* engine =
        std::move(start_engine(root)).value().release();  // never destroyed: a crash
    bool ok = engine->apply("d", delay(40), 60s).ok() && engine->apply("p", part, 60s).ok() &&
              engine->apply("b", bw, 60s).ok();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // What the dead injector left: its chains and qdisc. Its queue died with it, and
  // --queue-bypass lets traffic through meanwhile, undelayed.
  EXPECT_NE(our_chains(), "");
  EXPECT_NE(net_.in_b("tc qdisc show dev b0").find("fa17:"), std::string::npos);
  EXPECT_EQ(net_.ping_from_a("10.77.0.3", 3).received, 0) << "the partition outlived its owner";

  auto engine = std::move(start_engine(root)).value();  // the next start
  EXPECT_EQ(our_chains(), "");
  EXPECT_EQ(net_.in_b("tc qdisc show dev b0").find("fa17:"), std::string::npos);
  PingStats s = net_.ping_from_a("10.77.0.3", 20);
  EXPECT_EQ(s.received, 20);
  EXPECT_LT(s.median_ms, 5.0);
}

}  // namespace
}  // namespace faultline::injector
