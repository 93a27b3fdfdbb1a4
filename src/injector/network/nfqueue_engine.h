// A user-space netem: packets that the scope's NFQUEUE rule sends here are dropped,
// duplicated, corrupted or held and released later, per an Impairment. The kernel keeps every
// packet until we give its verdict, so holding a packet costs its id, not a copy.
//
// Several queues, one thread each (the rule spreads flows over them with --queue-balance, so
// a flow stays on one queue and in order). Each thread does everything for its queue
// (receive a batch, decide, answer the batch in one send, release at the due time), so its
// socket needs no lock and no packet waits on a context switch. The kernel copies only what
// a fault reads: metadata (and whole GSO packets) for delay, loss and reorder, the bytes only
// for corrupt and duplicate. The queue is bounded: beyond `limit` held packets, new ones are
// dropped (netem's `limit`). stop() releases every held packet and every packet still waiting
// in the socket: a revert never loses traffic it was holding.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "injector/network/impairment.h"

namespace faultline::injector {

// Packets faultline itself sends (duplicates) carry this mark; the NFQUEUE rules skip it.
inline constexpr uint32_t kOwnPacketMark = 0x46415554;

struct NfqueueStats {
  uint64_t received = 0, dropped = 0, duplicated = 0, corrupted = 0, released = 0, overflow = 0;
  // Numbered by the kernel but passed without us: the queue was full (fail-open).
  uint64_t bypassed = 0;
};

// How many queues (and threads) an engine uses by default: one per CPU, at most 4.
unsigned default_queue_count();

class NfqueueEngine {
 public:
  static constexpr uint32_t kDefaultLimit = 10000;

  // Binds queues first_queue .. first_queue+queue_count-1 in `netns` and starts one thread
  // each. Fails (kFailedPrecondition) if a number is taken, kNotFound without the namespace.
  static Result<std::unique_ptr<NfqueueEngine>> start(const std::string& netns,
                                                      uint16_t first_queue, ImpairmentSpec spec,
                                                      uint32_t limit = kDefaultLimit,
                                                      unsigned queue_count = 1);
  ~NfqueueEngine();  // stop()
  NfqueueEngine(const NfqueueEngine&) = delete;
  NfqueueEngine& operator=(const NfqueueEngine&) = delete;

  // Takes effect from the next batch of packets.
  void set_spec(ImpairmentSpec spec);
  // Releases everything held and unbinds the queues. Idempotent.
  void stop();
  NfqueueStats stats() const;
  uint16_t queue_num() const { return first_queue_; }
  unsigned queue_count() const;

  struct Worker;

 private:
  explicit NfqueueEngine(uint16_t first_queue);

  uint16_t first_queue_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopped_{false};
};

// Whether an impairment reads packet bytes (corrupt, duplicate) and so needs them copied.
bool needs_payload(const ImpairmentSpec& spec);

}  // namespace faultline::injector
