// Refused calls reach the audit trail through here, so that a peer that keeps knocking cannot
// flood it: the first few refusals from a peer host in a window are written in full (a person
// trying things sees each reason), the rest of that window are counted, and one entry per peer
// says how many there were and of what when the window closes. At most `in_full` + 1 entries
// per peer per window, however fast it calls.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "common/audit_log.h"
#include "common/duration.h"
#include "common/time_util.h"

namespace faultline::controller {

class RefusalThrottle {
 public:
  // `log` may be null (no audit trail): then nothing is written.
  RefusalThrottle(AuditLog* log, Duration window, uint64_t in_full = 20);

  // `entry.outcome` starts with "denied". Written now while its peer host has written fewer
  // than `in_full` in the current window; otherwise counted.
  Status record(const AuditEntry& entry);
  // Writes the count of every peer whose window has closed (all of them with `all`), and
  // forgets those peers. Called about twice a second by the controller and at shutdown.
  Status flush(bool all = false);

  // "ipv4:10.0.0.5:43122 cert CN=x" -> "ipv4:10.0.0.5": the port changes on every connection.
  static std::string peer_host(const std::string& peer);
  // Peers tracked at once; more than that share one bucket, so memory stays bounded however
  // many source addresses an attacker has.
  static constexpr size_t kMaxPeers = 4096;

 private:
  struct Window {
    MonoTime opened;
    int64_t first_unix_ms = 0;
    uint64_t written = 0;
    uint64_t suppressed = 0;
    std::map<std::string, uint64_t> by_action;
    std::string last_actor;
  };
  AuditEntry summary(const std::string& host, const Window& w) const;

  AuditLog* log_;
  Duration window_;
  uint64_t in_full_;
  std::mutex mu_;
  std::map<std::string, Window> peers_;
};

}  // namespace faultline::controller
