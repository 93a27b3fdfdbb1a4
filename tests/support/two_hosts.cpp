#include "support/two_hosts.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <vector>

namespace faultline::testing {

TwoHosts::TwoHosts() {
  if (!a_.ok() || !b_.ok()) return;
  ok_ = a_.ip("link add a0 type veth peer name b0 netns " + b_.name()) &&
        a_.ip("addr add 10.77.0.1/24 dev a0") && b_.ip("addr add 10.77.0.2/24 dev b0") &&
        b_.ip("addr add 10.77.0.3/24 dev b0") && a_.ip("link set a0 up") &&
        b_.ip("link set b0 up") && a_.ip("link set lo up") && b_.ip("link set lo up");
  // The first packets would otherwise pay for neighbour discovery.
  if (ok_) ok_ = ping_from_a("10.77.0.2", 2, 0.01).received > 0;
}

std::string TwoHosts::in_a(const std::string& cmd) const {
  return capture("ip netns exec " + a_.name() + " " + cmd + " 2>&1");
}

std::string TwoHosts::in_b(const std::string& cmd) const {
  return capture("ip netns exec " + b_.name() + " " + cmd + " 2>&1");
}

PingStats TwoHosts::ping_from_a(const std::string& to, int count, double interval_s) const {
  char cmd[160];
  std::snprintf(cmd, sizeof cmd, "ping -n -c %d -i %.3f -W 1 %s", count, interval_s, to.c_str());
  return parse_ping(in_a(cmd));
}

std::string faultline_chains(const std::string& netns) {
  // iptables lines naming a fl- chain; nf_tables rules tagged with a fl- comment (faultline's
  // own table may stay empty for a moment after the last rule went: that is not a rule).
  return capture("ip netns exec " + netns +
                 " sh -c 'for t in iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft; "
                 "do for table in mangle filter nat; do $t -S -t $table 2>/dev/null; done; done; "
                 "nft list ruleset 2>/dev/null' | grep -- fl- || true");
}

sockaddr_in ipv4_address(const char* ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

PingStats parse_ping(const std::string& out) {
  PingStats s;
  std::smatch m;
  if (std::regex_search(
          out, m,
          std::regex(R"((\d+) packets transmitted, (\d+) received(, \+(\d+) duplicates)?)"))) {
    s.sent = std::stoi(m[1]);
    s.received = std::stoi(m[2]);
    if (m[4].matched) s.duplicates = std::stoi(m[4]);
  }
  if (std::regex_search(out, m, std::regex(R"(([\d.]+)% packet loss)")))
    s.loss_percent = std::stod(m[1]);
  std::vector<double> times;
  std::regex reply(R"(time=([\d.]+) ms)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), reply); it != std::sregex_iterator();
       ++it)
    times.push_back(std::stod((*it)[1]));
  if (!times.empty()) {
    std::sort(times.begin(), times.end());
    auto at = [&](double q) { return times[static_cast<size_t>(q * (times.size() - 1) + 0.5)]; };
    s.median_ms = at(0.5);
    s.iqr_sigma_ms = (at(0.75) - at(0.25)) / 1.349;
  }
  if (std::regex_search(out, m, std::regex(R"(= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms)"))) {
    s.min_ms = std::stod(m[1]);
    s.avg_ms = std::stod(m[2]);
    s.max_ms = std::stod(m[3]);
    s.mdev_ms = std::stod(m[4]);
  }
  return s;
}

}  // namespace faultline::testing
