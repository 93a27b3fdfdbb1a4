// One direction of one proxied connection: reads what one side sends and writes it to the
// other, through the toxics of its stream. A single thread, which also keeps the order:
// chunks are stamped when read, and a latency toxic holds each until its own due time while
// the next ones are already being read (so 100 ms of latency adds 100 ms, not 100 ms per
// chunk). The toxics are re-read for every chunk and at least every 50 ms.
//
// http_abort spans both directions of a connection: the client->server pump follows the
// requests (RequestWatcher) and stops at one that a toxic answers, sends what came before it
// and half-closes the server; the server->client pump passes on what the server still sends
// and then writes the answer (AbortHandOff, shared by the two).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>

#include "proxy/http_abort.h"
#include "proxy/request_watcher.h"
#include "proxy/toxic_set.h"

namespace faultline::proxy {

// How a pump stopped, which decides what happens to the connection.
enum class PumpEnd {
  kEof,      // the source half-closed: pass the close on (after slow_close), keep the other way
  kError,    // a read or write failed: close the connection
  kClose,    // a toxic closed the connection (timeout, limit_data)
  kReset,    // reset_peer: close both sides with a TCP reset
  kStopped,  // the proxy is being disabled or removed
};

class LinkPump {
 public:
  // `abort` is the connection's, shared by its two pumps.
  LinkPump(int from, int to, Stream stream, const ToxicSet& toxics, AbortHandOff& abort,
           const std::atomic<bool>& stop, uint64_t seed);
  PumpEnd run();

 private:
  struct Chunk {
    std::string data;
    int64_t due_ns = 0;
  };
  // The byte toxics of this pump's stream that this connection drew (toxicity), in order.
  std::vector<Toxic> active(const ToxicSet::Snapshot& all);
  // Data read from the source, through the toxics that act on arrival (timeout, reset_peer,
  // latency), into held_.
  void take(std::string data, const std::vector<Toxic>& toxics);
  // Client->server, once what came before the answered request is sent.
  PumpEnd after_abort();
  // Server->client: the answer to the client, then the connection is closed.
  PumpEnd answer_abort();
  bool write_all(const char* p, size_t n);
  // Writes one chunk as the bandwidth and slicer toxics say; false when the write failed.
  bool deliver(const Chunk& c, const std::vector<Toxic>& toxics);
  void sleep_until(int64_t ns) const;

  const int from_, to_;
  const Stream stream_;
  const ToxicSet& toxics_;
  AbortHandOff& abort_;
  const std::atomic<bool>& stop_;
  std::mt19937_64 rng_;
  std::optional<RequestWatcher> watcher_;   // client->server only
  std::deque<Chunk> held_;                  // read, waiting for their due time
  std::map<std::string, bool> drawn_;       // toxicity, drawn once per toxic name
  std::map<std::string, int64_t> seen_ns_;  // when this pump first saw a toxic
  int64_t bandwidth_free_ns_ = 0;           // when the bandwidth toxic lets the next byte go
  int64_t last_due_ns_ = 0;
  int64_t last_read_ns_ = 0;      // when this pump last read from its source
  int64_t reset_at_ns_ = -1;      // reset_peer: when the reset goes out, once data came
  bool held_by_timeout_ = false;  // a timeout toxic has been active on this link
  uint64_t bytes_ = 0;
};

}  // namespace faultline::proxy
