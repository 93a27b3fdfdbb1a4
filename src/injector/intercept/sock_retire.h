// Retiring keep-alive connections that were open before an http_fault began: NAT only takes
// new connections, so without this a client's pooled connections would go on reaching the
// server directly, unfaulted (Chaos Mesh's HTTPChaos has exactly that gap). Each one in scope
// is destroyed (sock_diag's SOCK_DESTROY, what `ss -K` does) once it is idle, so its client
// sees what it sees when a server closes an idle keep-alive connection and reconnects, through
// the interceptor. Runs in the fault's network namespace, with CAP_NET_ADMIN.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace faultline::injector::intercept {

struct RetireScope {
  std::set<uint16_t> ports;  // the HTTP server's ports
  bool ingress = true;       // the server's own sockets (local port) or its clients' (remote)
  // Only connections whose peer is in these CIDRs (egress: the servers; ingress: the clients);
  // none = any.
  std::vector<std::string> destinations;
  uint32_t own_mark = 0;  // the interceptor's sockets, never retired
};

struct RetireOutcome {
  uint64_t retired = 0;  // destroyed
  uint64_t busy = 0;     // of those, still busy when the deadline came
  std::string error;     // why nothing could be done (no sock_diag, no permission)
};

// The connections in scope now (their socket cookies). Taken before the REDIRECT rules go in,
// so that every connection in it is one the rules will never see, and none is one of ours.
struct ConnectionSnapshot {
  std::set<uint64_t> cookies;
  std::string error;  // why none could be listed (no sock_diag, no permission)
};
ConnectionSnapshot snapshot_connections(const RetireScope& scope);

// Destroys each connection of the snapshot once it is idle (no bytes queued either way,
// nothing unacknowledged, quiet for 2 ms), and at `deadline` the rest.
RetireOutcome retire_connections(const ConnectionSnapshot& snapshot,
                                 std::chrono::milliseconds deadline);

}  // namespace faultline::injector::intercept
