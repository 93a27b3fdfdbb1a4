// A user-space netem: packets that the scope's NFQUEUE rule sends here are dropped,
// duplicated, corrupted or held and released later, per an Impairment. The kernel keeps every
// packet until we give its verdict, so holding a packet costs its id, not a copy.
//
// One thread does everything (receive, decide, release at the due time) so the netlink socket
// needs no lock and no packet waits on a context switch. The queue is bounded: beyond `limit`
// held packets, new ones are dropped (netem's `limit`). stop() releases every held packet and
// every packet still waiting in the socket: a revert never loses traffic it was holding.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "injector/network/impairment.h"

struct nl_sock;

namespace faultline::injector {

// Packets faultline itself sends (duplicates) carry this mark; the NFQUEUE rules skip it.
inline constexpr uint32_t kOwnPacketMark = 0x46415554;

struct NfqueueStats {
  uint64_t received = 0, dropped = 0, duplicated = 0, corrupted = 0, released = 0, overflow = 0;
};

class NfqueueEngine {
 public:
  static constexpr uint32_t kDefaultLimit = 10000;

  // Binds queue `queue_num` in `netns` and starts the thread. Fails if the number is taken.
  static Result<std::unique_ptr<NfqueueEngine>> start(const std::string& netns, uint16_t queue_num,
                                                      ImpairmentSpec spec,
                                                      uint32_t limit = kDefaultLimit);
  ~NfqueueEngine();  // stop()
  NfqueueEngine(const NfqueueEngine&) = delete;
  NfqueueEngine& operator=(const NfqueueEngine&) = delete;

  // Takes effect from the next packet.
  void set_spec(ImpairmentSpec spec);
  // Releases everything held and unbinds the queue. Idempotent.
  void stop();
  NfqueueStats stats() const;
  uint16_t queue_num() const { return queue_num_; }

 private:
  NfqueueEngine(uint16_t queue_num, uint32_t limit, ImpairmentSpec spec);
  void run();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t queue_num_;
  uint32_t limit_;
  mutable std::mutex mu_;
  std::optional<ImpairmentSpec> pending_spec_;
  ImpairmentSpec spec_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace faultline::injector
