// Two "hosts" as network namespaces joined by a veth pair — the smallest real network a
// network fault can be measured on. Host A is 10.77.0.1 (a0); host B is 10.77.0.2 and
// 10.77.0.3 (b0). Both namespaces, and with them every rule and qdisc inside, are removed at
// destruction, also when the test failed.
#pragma once

#include <netinet/in.h>

#include <string>

#include "support/child_process.h"

namespace faultline::testing {

struct PingStats {
  int sent = 0, received = 0, duplicates = 0;
  double loss_percent = 100;
  double min_ms = 0, avg_ms = 0, max_ms = 0, mdev_ms = 0;
  // From the per-reply times: robust against the odd reply a busy machine delays.
  double median_ms = 0;
  double iqr_sigma_ms = 0;  // interquartile range / 1.349: the sigma of a normal spread
};

class TwoHosts {
 public:
  TwoHosts();
  bool ok() const { return ok_; }
  const std::string& a() const { return a_.name(); }
  const std::string& b() const { return b_.name(); }
  // Runs a shell command inside host A (or B); returns stdout+stderr.
  std::string in_a(const std::string& cmd) const;
  std::string in_b(const std::string& cmd) const;
  // `ping` (iputils) from A to `to`: count packets every interval_s seconds.
  PingStats ping_from_a(const std::string& to, int count, double interval_s = 0.01) const;

 private:
  TestNetns a_, b_;
  bool ok_ = false;
};

PingStats parse_ping(const std::string& output);

// An IPv4 socket address: "10.77.0.2", port.
sockaddr_in ipv4_address(const char* ip, int port);

// Every rule line mentioning a faultline chain ("fl-...") in the namespace, as iptables
// itself lists them: legacy and nft, IPv4 and IPv6, mangle and filter; and the rules
// faultline makes in nf_tables itself (each has a "fl-..." comment), as `nft` lists them.
// "" = none.
std::string faultline_chains(const std::string& netns);

}  // namespace faultline::testing
