// The data path under a network fault, side by side with the paths a user would compare it
// with, in one run on the two-namespace network (tests/support/two_hosts.h):
//   plain      no fault;
//   nfqueue    network_delay 0 ms through the nfqueue engine, both directions of the flow;
//   haproxy    HAProxy in TCP mode in the same path (what a proxy-based tool adds), TCP only.
// For each: TCP throughput (iperf3, A->B and B->A), TCP round trip (32-byte ping-pong with
// TCP_NODELAY, p50/p99) and 64-byte UDP datagrams per second from one sender, each way.
// Usage: data_path_bench [seconds]   (root; iperf3 and haproxy on PATH; Markdown on stdout)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "injector/fault_engine.h"
#include "injector/network/netns.h"
#include "nlohmann/json.hpp"
#include "support/child_process.h"
#include "support/two_hosts.h"

using namespace faultline;
using namespace faultline::injector;
using namespace std::chrono_literals;

namespace {

constexpr const char* kB = "10.77.0.2";
constexpr const char* kA = "10.77.0.1";
constexpr int kIperfPort = 5201, kIperfProxy = 5202, kEchoPort = 6000, kEchoProxy = 6001;
constexpr int kUdpPort = 7000, kUdpPeer = 7001;

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

int socket_in(const std::string& netns, int type) {
  ScopedNetns in(netns);
  return ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
}

// One fault for all three flows (an interface carries one nfqueue fault's traffic).
pb::FaultSpec zero_delay(const testing::TwoHosts& net) {
  pb::FaultSpec f;
  auto* s = f.mutable_network_delay()->mutable_scope();
  s->set_netns(net.a());
  s->set_interface("a0");
  for (int port : {kIperfPort, kEchoPort, kUdpPort}) s->add_ports(port);
  s->set_direction("both");
  f.mutable_network_delay()->set_delay_us(0);
  f.mutable_network_delay()->set_backend("nfqueue");
  return f;
}

// iperf3 from A to B:port for `seconds`; reverse = B sends. Gbit/s received, or -1.
double iperf(const testing::TwoHosts& net, int port, bool reverse, int seconds) {
  std::string out =
      net.in_a("iperf3 -J -c " + std::string(kB) + " -p " + std::to_string(port) + " -t " +
               std::to_string(seconds) + (reverse ? " -R" : "") + " 2>/dev/null");
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.contains("end")) return -1;
  return j["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9;
}

// A TCP echo server in B (one connection at a time) for the round-trip figures.
class EchoServer {
 public:
  explicit EchoServer(const testing::TwoHosts& net) {
    fd_ = socket_in(net.b(), SOCK_STREAM);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = testing::ipv4_address(kB, kEchoPort);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        int nodelay = 1;
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
        char buf[64];
        ssize_t n;
        while ((n = ::read(c, buf, sizeof buf)) > 0) (void)!::write(c, buf, n);
        ::close(c);
      }
    });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

 private:
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Rtt {
  double p50 = 0, p99 = 0;
  bool ok = false;
};

// 32-byte ping-pong from A over a fresh connection; round trips in µs.
Rtt round_trips(const testing::TwoHosts& net, int port, int count) {
  int c = socket_in(net.a(), SOCK_STREAM);
  int one = 1;
  ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto to = testing::ipv4_address(kB, port);
  if (::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(c);
    return {};
  }
  std::vector<double> us;
  us.reserve(count);
  char buf[32] = {};
  for (int i = 0; i < count + 200; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (::write(c, buf, sizeof buf) != sizeof buf) break;
    size_t got = 0;
    while (got < sizeof buf) {
      ssize_t n = ::read(c, buf + got, sizeof buf - got);
      if (n <= 0) break;
      got += n;
    }
    if (got < sizeof buf) break;
    // The first 200 warm the path up (connection tracking, caches, the engine's threads).
    if (i >= 200)
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  ::close(c);
  return {pct(us, 0.5), pct(us, 0.99), static_cast<int>(us.size()) == count};
}

// 64-byte datagrams from one sender (batches of 64 per sendmmsg) for `seconds`; received/s.
double udp_rate(const testing::TwoHosts& net, bool a_to_b, double seconds) {
  const std::string& tx_ns = a_to_b ? net.a() : net.b();
  const std::string& rx_ns = a_to_b ? net.b() : net.a();
  // Both directions of the faulted flow: A sends to B:7000, B answers from 7000.
  auto rx_addr = a_to_b ? testing::ipv4_address(kB, kUdpPort) : testing::ipv4_address(kA, kUdpPeer);
  auto tx_addr = a_to_b ? testing::ipv4_address(kA, kUdpPeer) : testing::ipv4_address(kB, kUdpPort);
  int rx = socket_in(rx_ns, SOCK_DGRAM), tx = socket_in(tx_ns, SOCK_DGRAM);
  int big = 32 << 20;
  ::setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  ::bind(rx, reinterpret_cast<sockaddr*>(&rx_addr), sizeof rx_addr);
  ::bind(tx, reinterpret_cast<sockaddr*>(&tx_addr), sizeof tx_addr);
  ::connect(tx, reinterpret_cast<sockaddr*>(&rx_addr), sizeof rx_addr);
  std::atomic<bool> sending{true};
  std::atomic<uint64_t> received{0};
  std::thread reader([&] {
    std::vector<char> bufs(64 * 64);
    std::vector<iovec> iov(64);
    std::vector<mmsghdr> msgs(64);
    for (int i = 0; i < 64; ++i) {
      iov[i] = {bufs.data() + i * 64, 64};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    while (true) {
      pollfd p{rx, POLLIN, 0};
      if (::poll(&p, 1, 300) <= 0) {
        if (!sending) break;
        continue;
      }
      int n = ::recvmmsg(rx, msgs.data(), 64, MSG_DONTWAIT, nullptr);
      if (n > 0) received += n;
    }
  });
  char payload[64] = {};
  std::vector<iovec> iov(64, iovec{payload, sizeof payload});
  std::vector<mmsghdr> msgs(64);
  for (int i = 0; i < 64; ++i) {
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  // Counted from a moment after the start so the receiver's figure covers a steady state.
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration<double>(seconds);
  uint64_t at_mark = 0;
  bool marked = false;
  auto mark = start + 500ms;
  while (std::chrono::steady_clock::now() < end) {
    (void)::sendmmsg(tx, msgs.data(), 64, 0);
    if (!marked && std::chrono::steady_clock::now() >= mark) {
      at_mark = received;
      marked = true;
    }
  }
  auto stop = std::chrono::steady_clock::now();
  uint64_t at_end = received;
  sending = false;
  reader.join();
  ::close(rx);
  ::close(tx);
  return (at_end - at_mark) / std::chrono::duration<double>(stop - mark).count();
}

struct Row {
  std::string path;
  double tcp_ab = -1, tcp_ba = -1, udp_ab = -1, udp_ba = -1;
  Rtt rtt;
};

void print(const Row& r, const Row& plain) {
  auto num = [](double v, const char* f) {
    if (v < 0) return std::string("n/a");
    char b[32];
    std::snprintf(b, sizeof b, f, v);
    return std::string(b);
  };
  std::string added = r.path == plain.path ? "" : num(r.rtt.p50 - plain.rtt.p50, "+%.1f");
  std::printf("| %s | %s | %s | %s / %s | %s | %s | %s |\n", r.path.c_str(),
              num(r.tcp_ab, "%.1f").c_str(), num(r.tcp_ba, "%.1f").c_str(),
              num(r.rtt.ok ? r.rtt.p50 : -1, "%.1f").c_str(),
              num(r.rtt.ok ? r.rtt.p99 : -1, "%.1f").c_str(), added.c_str(),
              num(r.udp_ab / 1000, "%.0fk").c_str(), num(r.udp_ba / 1000, "%.0fk").c_str());
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  spdlog::set_level(spdlog::level::warn);
  testing::TwoHosts net;
  if (!net.ok()) {
    std::fprintf(stderr, "cannot build the two-host network (run as root)\n");
    return 3;
  }
  testing::TempDir dir;
  testing::ChildProcess iperf_server({"/usr/sbin/ip", "netns", "exec", net.b(), "iperf3", "-s",
                                      "-B", kB, "-p", std::to_string(kIperfPort)},
                                     dir.file("iperf3.log"), dir.file("iperf3.log"));
  testing::write_file(dir.file("haproxy.cfg"),
                      "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 5s\n"
                      "  timeout client 60s\n  timeout server 60s\n"
                      "listen iperf\n  bind " +
                          std::string(kB) + ":" + std::to_string(kIperfProxy) + "\n  server s " +
                          kB + ":" + std::to_string(kIperfPort) + "\nlisten echo\n  bind " + kB +
                          ":" + std::to_string(kEchoProxy) +
                          "\n  option tcp-smart-connect\n  server s " + kB + ":" +
                          std::to_string(kEchoPort) + "\n");
  testing::ChildProcess haproxy(
      {"/usr/sbin/ip", "netns", "exec", net.b(), "haproxy", "-db", "-f", dir.file("haproxy.cfg")},
      dir.file("haproxy.log"), dir.file("haproxy.log"));
  EchoServer echo(net);
  std::this_thread::sleep_for(500ms);
  FaultEngine engine(default_backends());
  const int rtts = 20000;

  Row plain{"plain (no fault)"};
  plain.tcp_ab = iperf(net, kIperfPort, false, seconds);
  plain.tcp_ba = iperf(net, kIperfPort, true, seconds);
  plain.rtt = round_trips(net, kEchoPort, rtts);
  plain.udp_ab = udp_rate(net, true, seconds);
  plain.udp_ba = udp_rate(net, false, seconds);

  Row queued{"nfqueue, 0 ms delay, both directions"};
  if (auto r = engine.apply("bench", zero_delay(net), 10min); !r) {
    std::fprintf(stderr, "apply failed: %s\n", r.error().message.c_str());
    return 1;
  }
  queued.tcp_ab = iperf(net, kIperfPort, false, seconds);
  queued.tcp_ba = iperf(net, kIperfPort, true, seconds);
  queued.rtt = round_trips(net, kEchoPort, rtts);
  queued.udp_ab = udp_rate(net, true, seconds);
  queued.udp_ba = udp_rate(net, false, seconds);
  auto seen = engine.revert("bench");

  Row proxied{"HAProxy 2.6, TCP mode"};
  proxied.tcp_ab = iperf(net, kIperfProxy, false, seconds);
  proxied.tcp_ba = iperf(net, kIperfProxy, true, seconds);
  proxied.rtt = round_trips(net, kEchoProxy, rtts);

  std::printf(
      "| path | TCP A→B Gbit/s | TCP B→A Gbit/s | TCP RTT p50 / p99 µs | added RTT p50 µs "
      "| UDP 64 B A→B pkt/s | UDP 64 B B→A pkt/s |\n|---|---|---|---|---|---|---|\n");
  for (const Row* r : {&plain, &queued, &proxied}) print(*r, plain);
  std::printf("\nThe engine while faulted: %s\n",
              seen ? seen->c_str() : seen.error().message.c_str());
  return 0;
}
