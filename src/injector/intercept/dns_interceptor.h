// dns_fault's side of the helper: per DNS server of the fault, one UDP socket and one TCP
// listener on ports the kernel picks, where REDIRECT rules send the scope's queries to that
// server. Each query is answered by the first rule its name matches (forged, never, or late)
// or forwarded to the server from a socket carrying the helper's mark, and its answer relayed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/dns/name_match.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "faultline/v1/faults.pb.h"

namespace faultline::injector::intercept {

namespace pb = ::faultline::v1;

struct DnsStats {
  std::atomic<uint64_t> queries{0}, forged{0}, dropped{0}, delayed{0}, forwarded{0}, tcp{0},
      malformed{0}, upstream_errors{0};
};

class DnsRules {
 public:
  static Result<DnsRules> compile(const pb::DnsFault& fault);
  // The rule for a queried name, or null (forward): the first whose names match, if the
  // percent draw says so.
  const pb::DnsRule* decide(std::string_view name) const;

 private:
  struct Compiled {
    dns::NameMatcher names;
    pb::DnsRule rule;
  };
  struct Draw {
    std::mutex mu;
    std::mt19937_64 rng;
  };
  std::vector<Compiled> rules_;
  std::unique_ptr<Draw> draw_ = std::make_unique<Draw>();
};

// Runs callbacks at their due time on one thread; flush() runs every one now (the drain).
class DueQueue {
 public:
  DueQueue();
  ~DueQueue();
  void at(std::chrono::steady_clock::time_point due, std::function<void()> fn);
  void flush();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> due_;
  bool stop_ = false, flush_ = false;
  std::thread thread_;
};

class DnsInterceptor {
 public:
  DnsInterceptor(DnsRules rules, uint32_t own_mark, std::vector<std::string> servers);
  ~DnsInterceptor();

  // Binds every socket; nothing runs until run() (the helper confines itself in between).
  Status listen();
  void run();
  // Per server, in order: the ports its queries are redirected to.
  std::vector<uint16_t> udp_ports() const;
  std::vector<uint16_t> tcp_ports() const;
  // Held queries go on at once; TCP connections close after their answer in flight; at most
  // `deadline_ms`.
  void drain(uint64_t deadline_ms);
  const DnsStats& stats() const { return stats_; }

 private:
  struct Server;
  void serve_udp(Server& s);
  void serve_upstream_udp(Server& s);
  void serve_tcp(Server& s);
  void serve_tcp_client(Server& s, UniqueFd client);
  void act(Server& s, std::string query, std::function<void(std::string)> reply, bool tcp);

  DnsRules rules_;
  uint32_t mark_;
  std::vector<std::unique_ptr<Server>> servers_;
  DnsStats stats_;
  DueQueue due_;
  UniqueFd stop_;  // eventfd: the drain began
  std::atomic<bool> draining_{false}, stopped_{false};
  std::mutex tcp_mu_;
  std::list<std::thread> tcp_threads_;
  std::atomic<int> tcp_open_{0};
};

}  // namespace faultline::injector::intercept
