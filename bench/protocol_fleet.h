// Lightweight stand-ins for injectors, for fleet benchmarks. Each client speaks the real
// injector link on its own channel and TCP connection: Register (distinct node name, labels,
// capabilities), a Heartbeat at the interval the controller asks for, and an immediate ok
// FaultAck for every command. They apply nothing: they measure the controller and the link,
// not fault backends. All clients are on gRPC's callback API (ClientBidiReactor): they share
// gRPC's few callback threads and one heartbeat thread, so ten thousand of them fit in one
// process on a small machine and leave most of its CPU to the controller being measured.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/duration.h"
#include "common/time_util.h"

namespace faultline::bench {

// When the clients saw one fan-out: the first command received by any client and the last
// ack written by any client, on the monotonic clock of this process.
struct FanoutWindow {
  std::atomic<int64_t> first_command_ns{INT64_MAX};
  std::atomic<int64_t> last_ack_ns{0};
  std::atomic<int> acks{0};

  void reset() {
    first_command_ns = INT64_MAX;
    last_ack_ns = 0;
    acks = 0;
  }
  double ms() const { return static_cast<double>(last_ack_ns - first_command_ns) / 1e6; }
};

// What the clients share: counters and the two fan-out windows.
struct FleetCounters {
  std::atomic<int> registered{0};
  std::atomic<int> ended{0};
  std::atomic<uint64_t> heartbeats_sent{0};
  std::atomic<uint64_t> heartbeats_echoed{0};
  FanoutWindow applies;
  FanoutWindow reverts;
};

class ProtocolClient;

class ProtocolFleet {
 public:
  // Clients are named `<prefix>-00000`, ... and carry `labels` plus their own `index`.
  ProtocolFleet(std::string address, std::string prefix, std::map<std::string, std::string> labels);
  // Cancels every stream and waits for each to end.
  ~ProtocolFleet();
  ProtocolFleet(const ProtocolFleet&) = delete;
  ProtocolFleet& operator=(const ProtocolFleet&) = delete;

  // Starts clients (in batches) until `total` exist and waits until all of them are
  // registered. False when a batch was not registered within `timeout` or a stream ended.
  bool grow_to(int total, Duration timeout);
  int size() const;
  FleetCounters& counters() { return counters_; }

 private:
  void heartbeat_loop();

  std::string address_, prefix_;
  std::map<std::string, std::string> labels_;
  FleetCounters counters_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<ProtocolClient>> clients_;
  std::atomic<bool> stopping_{false};
  std::thread heartbeats_;
};

}  // namespace faultline::bench
