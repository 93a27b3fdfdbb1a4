#include "controller/auth/refusal_throttle.h"

#include <vector>

namespace faultline::controller {
namespace {
constexpr const char* kOtherPeers = "(other peers)";
}

RefusalThrottle::RefusalThrottle(AuditLog* log, Duration window, uint64_t in_full)
    : log_(log), window_(window), in_full_(in_full) {}

std::string RefusalThrottle::peer_host(const std::string& peer) {
  std::string p = peer.substr(0, peer.find(' '));
  // unix sockets and names without a port are their own key.
  if (p.rfind("ipv4:", 0) != 0 && p.rfind("ipv6:", 0) != 0) return p;
  auto colon = p.rfind(':');
  if (colon == std::string::npos || colon < 5) return p;
  return p.substr(0, colon);
}

Status RefusalThrottle::record(const AuditEntry& entry) {
  std::string host = peer_host(entry.peer);
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(host);
    if (it == peers_.end() && peers_.size() >= kMaxPeers) {
      host = kOtherPeers;
      it = peers_.find(host);
    }
    if (it == peers_.end())
      it = peers_.emplace(host, Window{MonoClock::now(), unix_millis_now(), 0, 0, {}, ""}).first;
    Window& w = it->second;
    if (w.written >= in_full_) {
      ++w.suppressed;
      ++w.by_action[entry.action];
      w.last_actor = entry.actor;
      return Ok{};
    }
    ++w.written;
  }
  return log_ ? log_->append(entry) : Status(Ok{});
}

AuditEntry RefusalThrottle::summary(const std::string& host, const Window& w) const {
  std::string actions;
  for (const auto& [action, n] : w.by_action)
    actions += (actions.empty() ? "" : ", ") + action + " x" + std::to_string(n);
  return {w.last_actor,
          "",
          "refusals.counted",
          "",
          host,
          "denied: " + std::to_string(w.suppressed) + " more refused call" +
              (w.suppressed == 1 ? "" : "s") + " from this peer in the " +
              format_duration(window_) + " after " + format_utc_millis(w.first_unix_ms) +
              ", counted instead of written one by one",
          actions};
}

Status RefusalThrottle::flush(bool all) {
  std::vector<AuditEntry> out;
  {
    std::lock_guard lock(mu_);
    MonoTime now = MonoClock::now();
    for (auto it = peers_.begin(); it != peers_.end();) {
      if (!all && now - it->second.opened < window_) {
        ++it;
        continue;
      }
      if (it->second.suppressed > 0) out.push_back(summary(it->first, it->second));
      it = peers_.erase(it);
    }
  }
  if (out.empty() || !log_) return Ok{};
  return log_->append_all(out);
}

}  // namespace faultline::controller
