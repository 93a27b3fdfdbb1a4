// One NFQUEUE queue on a raw nfnetlink socket: bind and configure it, receive queued packets
// a batch per system call, and answer them with verdicts written back to back (one send for
// a whole batch). No libnl on this path: its per-packet message objects cost an allocation
// and a parse each, which capped the engine near 90k packets/s.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace faultline::injector {

// What the kernel hands over per packet. Copying only metadata lets it queue whole GSO
// packets (up to 64 KiB of TCP each) instead of segmenting them to the MTU first.
enum class NfqueueCopy { kMetadata, kPacket };

class NetlinkBuilder;

struct QueuedPacket {
  uint32_t id = 0;
  const unsigned char* payload = nullptr;  // into the receive buffer; valid until next receive
  uint32_t payload_len = 0;
};

class NfqueueSocket {
 public:
  static constexpr unsigned kBatch = 64;

  // Opens the socket in `netns` (sockets stay in the namespace they were made in) and binds
  // `queue_num`; fails with kFailedPrecondition when another socket holds that number.
  static Result<NfqueueSocket> open(const std::string& netns, uint16_t queue_num, uint32_t max_len);
  NfqueueSocket();
  ~NfqueueSocket();
  NfqueueSocket(NfqueueSocket&&) noexcept;
  NfqueueSocket& operator=(NfqueueSocket&&) noexcept;

  // Sets what is copied (and, with metadata only, asks for whole GSO packets). Fail-open is
  // always on: a packet the queue cannot take passes instead of being dropped by the kernel.
  // `wait_ack` only at set-up: later, packets and the ack would interleave.
  Status configure(NfqueueCopy copy, bool wait_ack);

  // Up to kBatch packets already waiting (never blocks); appended to `out`. False on a
  // socket error other than "nothing there".
  bool receive(std::vector<QueuedPacket>& out);

  // Verdicts are collected and sent by flush(); a payload is copied into the batch.
  void verdict(uint32_t id, bool accept, const unsigned char* payload = nullptr,
               uint32_t payload_len = 0);
  void flush();

  // Releases the queue number; the socket closes with the object.
  void unbind();

  int fd() const { return fd_.get(); }
  uint16_t queue_num() const { return queue_num_; }
  // Packets the kernel numbered but never queued to us (it passed them: fail-open or the
  // socket buffer was full), seen as gaps in the ids.
  uint64_t bypassed() const { return bypassed_; }

 private:
  Status send_config(const std::function<void(NetlinkBuilder&)>& attrs, bool wait_ack);

  UniqueFd fd_;
  uint16_t queue_num_ = 0;
  uint32_t max_len_ = 0;
  uint32_t next_id_ = 0;
  uint64_t bypassed_ = 0;
  size_t buffer_size_ = 0;
  std::vector<unsigned char> rx_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  std::unique_ptr<NetlinkBuilder> tx_;  // verdicts not yet sent
};

}  // namespace faultline::injector
