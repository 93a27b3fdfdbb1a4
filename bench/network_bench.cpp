// Network fault benchmarks on a two-namespace network (see tests/support/two_hosts.h):
//   1. apply and revert latency of each backend (p50/p99 over N faults);
//   2. the nfqueue engine's added latency and delay accuracy at 1k and 10k packets/s, and its
//      maximum throughput, next to the plain path measured in the same run.
// One-way latency is exact here: both "hosts" read the same CLOCK_MONOTONIC.
// Usage: network_bench [rounds]   (root; results as a Markdown table on stdout)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>

#include "common/command_runner.h"
#include "common/log.h"
#include "common/process_launch.h"
#include "injector/fault_engine.h"
#include "injector/network/iptables_chain.h"
#include "injector/network/netns.h"
#include "support/two_hosts.h"

using namespace faultline;
using namespace faultline::injector;
using namespace std::chrono_literals;

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

int udp_in(const std::string& netns) {
  ScopedNetns in(netns);
  return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

pb::NetworkScope scope(const testing::TwoHosts& net) {
  pb::NetworkScope s;
  s.set_netns(net.a());
  s.set_interface("a0");
  s.set_protocol("udp");
  s.add_ports(7000);
  return s;
}

pb::FaultSpec delay_spec(const testing::TwoHosts& net, int64_t us) {
  pb::FaultSpec f;
  *f.mutable_network_delay()->mutable_scope() = scope(net);
  f.mutable_network_delay()->set_delay_us(us);
  f.mutable_network_delay()->set_backend("nfqueue");
  return f;
}

struct Latency {
  double sent = 0, received = 0, p50_us = 0, p99_us = 0, achieved_pps = 0;
};

// Sends `pps` timestamped datagrams per second for `seconds` from A to B; one-way latencies.
Latency measure(const testing::TwoHosts& net, int pps, double seconds) {
  int rx = udp_in(net.b()), tx = udp_in(net.a());
  int big = 16 << 20;
  ::setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(7000);
  inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
  ::bind(rx, reinterpret_cast<sockaddr*>(&to), sizeof to);
  std::vector<double> lat;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    // Busy-polling: the receiver's own wake-up latency must not count as the path's.
    int64_t buf[8];
    int64_t idle_since = now_ns();
    while (true) {
      if (::recv(rx, buf, sizeof buf, MSG_DONTWAIT) >= 8) {
        lat.push_back((now_ns() - buf[0]) / 1000.0);
        idle_since = now_ns();
      } else if (done && now_ns() - idle_since > 200'000'000) {
        break;
      }
    }
  });
  const int total = pps > 0 ? static_cast<int>(pps * seconds) : 0;
  const int64_t gap = pps > 0 ? 1'000'000'000LL / pps : 0;
  int64_t start = now_ns(), next = start;
  int sent = 0;
  // pps == 0: as fast as possible for `seconds` (throughput).
  while (pps > 0 ? sent < total : now_ns() - start < seconds * 1e9) {
    if (pps > 0) {
      // Sleeping, not spinning: on two cores the sender, the receiver and the engine would
      // otherwise fight over CPUs and the figures would measure that.
      timespec at{static_cast<time_t>(next / 1'000'000'000),
                  static_cast<long>(next % 1'000'000'000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
      next += gap;
    }
    int64_t t[8] = {now_ns()};
    if (::sendto(tx, t, sizeof t, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0) ++sent;
  }
  double elapsed = (now_ns() - start) / 1e9;
  std::this_thread::sleep_for(300ms);
  done = true;
  reader.join();
  ::close(rx);
  ::close(tx);
  return {static_cast<double>(sent), static_cast<double>(lat.size()), pct(lat, 0.5), pct(lat, 0.99),
          lat.size() / elapsed};
}

void apply_revert(FaultEngine& engine, const std::string& name, const pb::FaultSpec& spec,
                  int rounds) {
  std::vector<double> apply_ms, revert_ms;
  for (int i = 0; i < rounds; ++i) {
    std::string id = name + "-" + std::to_string(i);
    auto t0 = std::chrono::steady_clock::now();
    auto r = engine.apply(id, spec, 60s);
    auto t1 = std::chrono::steady_clock::now();
    if (!r) {
      std::printf("| %s | failed: %s | | | |\n", name.c_str(), r.error().message.c_str());
      return;
    }
    (void)engine.revert(id);
    auto t2 = std::chrono::steady_clock::now();
    apply_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    revert_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::printf("| %s | %.2f | %.2f | %.2f | %.2f |\n", name.c_str(), pct(apply_ms, 0.5),
              pct(apply_ms, 0.99), pct(revert_ms, 0.5), pct(revert_ms, 0.99));
}

// The alternative to an in-process rule: one iptables-restore process per change (the
// fastest way to change iptables from outside), the same chain and rule as the partition.
void one_process(const testing::TwoHosts& net, const std::string& program, int rounds) {
  if (find_executable(program).empty()) return;
  int ns = ::open(netns_path(net.a()).c_str(), O_RDONLY | O_CLOEXEC);
  std::vector<double> apply_ms, revert_ms;
  auto run = [&](const std::string& text) {
    std::string path = "/tmp/faultline-bench-restore";
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    auto t0 = std::chrono::steady_clock::now();
    auto r = run_command({program, "-w", "--noflush", path}, 20s, ns);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r && r->exit_code == 0 ? ms : -1.0;
  };
  for (int i = 0; i < rounds; ++i) {
    double a =
        run("*filter\n:fl-bench - [0:0]\n-A fl-bench -p udp --dport 7000 -j DROP\n"
            "-I OUTPUT 1 -o a0 -j fl-bench\nCOMMIT\n");
    double r = run("*filter\n-D OUTPUT -o a0 -j fl-bench\n-F fl-bench\n-X fl-bench\nCOMMIT\n");
    if (a < 0 || r < 0) {
      std::printf("| one `%s` process | failed | | | |\n", program.c_str());
      ::close(ns);
      return;
    }
    apply_ms.push_back(a);
    revert_ms.push_back(r);
  }
  ::close(ns);
  std::printf("| one `%s` process (same rule) | %.2f | %.2f | %.2f | %.2f |\n", program.c_str(),
              pct(apply_ms, 0.5), pct(apply_ms, 0.99), pct(revert_ms, 0.5), pct(revert_ms, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  // --partition-only ROUNDS: one table row, for the parent to run under another flavour.
  const bool partition_only = argc > 1 && std::string(argv[1]) == "--partition-only";
  if (partition_only) {
    ++argv;
    --argc;
  }
  int rounds = argc > 1 ? std::atoi(argv[1]) : 50;
  prctl(PR_SET_TIMERSLACK, 1UL);
  spdlog::set_level(spdlog::level::warn);
  testing::TwoHosts net;
  if (!net.ok()) {
    std::fprintf(stderr, "cannot build the two-host network (run as root)\n");
    return 3;
  }
  FaultEngine engine(default_backends());

  if (!partition_only) {
    std::printf("## Apply and revert latency (%d rounds each, ms)\n\n", rounds);
    std::printf("| fault (backend) | apply p50 | apply p99 | revert p50 | revert p99 |\n");
    std::printf("|---|---|---|---|---|\n");
    apply_revert(engine, "network_delay (nfqueue)", delay_spec(net, 10000), rounds);
  }
  pb::FaultSpec cut;
  *cut.mutable_network_partition()->mutable_scope() = scope(net);
  apply_revert(engine, "network_partition (" + iptables_flavour() + ")", cut, rounds);
  if (partition_only) return 0;
  // The same fault through the iptables programs (the flavour is fixed per process).
  for (const char* flavour : {"legacy", "nf_tables", "nft"}) {
    if (iptables_flavour() == flavour) continue;
    std::fflush(stdout);
    std::string self = "FAULTLINE_IPTABLES=" + std::string(flavour) + " /proc/" +
                       std::to_string(::getpid()) + "/exe --partition-only " +
                       std::to_string(rounds);
    (void)!std::system(self.c_str());
  }
  one_process(net, "iptables-legacy-restore", rounds);
  one_process(net, "iptables-nft-restore", rounds);
  for (const char* kind : {"tbf", "htb"}) {
    pb::FaultSpec bw;
    *bw.mutable_network_bandwidth()->mutable_scope() = scope(net);
    bw.mutable_network_bandwidth()->mutable_scope()->clear_ports();
    bw.mutable_network_bandwidth()->mutable_scope()->clear_protocol();
    bw.mutable_network_bandwidth()->set_rate_bps(10'000'000);
    bw.mutable_network_bandwidth()->set_backend(kind);
    apply_revert(engine, std::string("network_bandwidth (") + kind + ")", bw, rounds);
  }
  pb::FaultSpec down;
  down.mutable_interface_down()->mutable_scope()->set_netns(net.b());
  down.mutable_interface_down()->mutable_scope()->set_interface("b0");
  apply_revert(engine, "interface_down (rtnetlink)", down, rounds);

  std::printf("\n## nfqueue engine: one-way latency A -> B (µs)\n\n");
  std::printf("| path | rate | received/sent | p50 | p99 | added p50 | added p99 |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int pps : {1000, 10000}) {
    Latency plain = measure(net, pps, 3);
    std::printf("| plain (no fault) | %d pps | %.0f/%.0f | %.1f | %.1f | | |\n", pps,
                plain.received, plain.sent, plain.p50_us, plain.p99_us);
    if (!engine.apply("zero", delay_spec(net, 0), 60s)) return 1;
    Latency zero = measure(net, pps, 3);
    (void)engine.revert("zero");
    std::printf("| nfqueue, 0 ms delay | %d pps | %.0f/%.0f | %.1f | %.1f | %.1f | %.1f |\n", pps,
                zero.received, zero.sent, zero.p50_us, zero.p99_us, zero.p50_us - plain.p50_us,
                zero.p99_us - plain.p99_us);
    if (!engine.apply("ten", delay_spec(net, 10000), 60s)) return 1;
    Latency ten = measure(net, pps, 3);
    (void)engine.revert("ten");
    std::printf(
        "| nfqueue, 10 ms delay | %d pps | %.0f/%.0f | %.1f | %.1f | error %.1f | error %.1f |\n",
        pps, ten.received, ten.sent, ten.p50_us, ten.p99_us, ten.p50_us - 10000 - plain.p50_us,
        ten.p99_us - 10000 - plain.p50_us);
  }
  std::printf("\n## Throughput, 64-byte UDP datagrams as fast as one sender can (packets/s)\n\n");
  std::printf("| path | received pps | sent | received |\n|---|---|---|---|\n");
  Latency plain = measure(net, 0, 2);
  std::printf("| plain (no fault) | %.0f | %.0f | %.0f |\n", plain.achieved_pps, plain.sent,
              plain.received);
  if (!engine.apply("max", delay_spec(net, 0), 60s)) return 1;
  Latency q = measure(net, 0, 2);
  (void)engine.revert("max");
  std::printf("| nfqueue, 0 ms delay | %.0f | %.0f | %.0f |\n", q.achieved_pps, q.sent, q.received);
  return 0;
}
