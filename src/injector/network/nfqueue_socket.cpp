#include "injector/network/nfqueue_socket.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "injector/network/netlink_builder.h"
#include "injector/network/netns.h"

namespace faultline::injector {

namespace {

// Verdict values from <linux/netfilter.h>, which clashes with <netinet/in.h>.
constexpr uint32_t kDrop = 0;
constexpr uint32_t kAccept = 1;
constexpr uint16_t kQueueMsg(uint8_t type) {
  return static_cast<uint16_t>((NFNL_SUBSYS_QUEUE << 8) | type);
}

}  // namespace

NfqueueSocket::NfqueueSocket() = default;
NfqueueSocket::~NfqueueSocket() = default;
NfqueueSocket::NfqueueSocket(NfqueueSocket&&) noexcept = default;
NfqueueSocket& NfqueueSocket::operator=(NfqueueSocket&&) noexcept = default;

Result<NfqueueSocket> NfqueueSocket::open(const std::string& netns, uint16_t queue_num,
                                          uint32_t max_len) {
  NfqueueSocket s;
  s.queue_num_ = queue_num;
  s.max_len_ = max_len;
  auto fd = open_nfnetlink(netns);
  if (!fd) return fd.error();
  s.fd_ = std::move(*fd);
  // Bursts of a line-rate flow arrive faster than one wake-up: a large buffer, and a full
  // one is not an error (the queue is fail-open, so the kernel passes what does not fit).
  int rcvbuf = 16 << 20;
  if (::setsockopt(s.fd(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
    (void)::setsockopt(s.fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int one = 1;
  (void)::setsockopt(s.fd(), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
  nfqnl_msg_config_cmd cmd{};
  cmd.command = NFQNL_CFG_CMD_BIND;
  if (Status st =
          s.send_config([&](NetlinkBuilder& b) { b.put(NFQA_CFG_CMD, &cmd, sizeof cmd); }, true);
      !st)
    return make_error(
        ErrorCode::kFailedPrecondition,
        "cannot bind nfqueue " + std::to_string(queue_num) + ": " + st.error().message);
  s.tx_ = std::make_unique<NetlinkBuilder>();
  s.tx_->reserve(128 * 1024);
  return s;
}

Status NfqueueSocket::configure(NfqueueCopy copy, bool wait_ack) {
  nfqnl_msg_config_params params{};
  params.copy_mode = copy == NfqueueCopy::kPacket ? NFQNL_COPY_PACKET : NFQNL_COPY_META;
  params.copy_range = htonl(copy == NfqueueCopy::kPacket ? 0xFFFF : 0);
  // Whole GSO packets only when nothing reads the bytes: a corrupted or duplicated packet
  // must be one wire packet (a copy re-sent from a raw socket cannot exceed the MTU).
  uint32_t flags = NFQA_CFG_F_FAIL_OPEN | (copy == NfqueueCopy::kMetadata ? NFQA_CFG_F_GSO : 0);
  // One receive slot per batch entry, sized for what the kernel will send.
  // Slot starts stay 8-aligned: each begins with an nlmsghdr read in place.
  size_t want = copy == NfqueueCopy::kPacket ? ((0xFFFF + 1024 + 7) & ~size_t{7}) : 1024;
  if (want != buffer_size_) {
    buffer_size_ = want;
    rx_.assign(kBatch * want, 0);
    iov_.resize(kBatch);
    msgs_.assign(kBatch, mmsghdr{});
    for (unsigned i = 0; i < kBatch; ++i) {
      iov_[i] = {rx_.data() + i * want, want};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  return send_config(
      [&](NetlinkBuilder& b) {
        b.put(NFQA_CFG_PARAMS, &params, sizeof params);
        b.put_be32(NFQA_CFG_QUEUE_MAXLEN, max_len_);
        b.put_be32(NFQA_CFG_MASK, NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);
        b.put_be32(NFQA_CFG_FLAGS, flags);
      },
      wait_ack);
}

Status NfqueueSocket::send_config(const std::function<void(NetlinkBuilder&)>& attrs,
                                  bool wait_ack) {
  NetlinkBuilder msg;
  uint32_t seq =
      msg.begin(kQueueMsg(NFQNL_MSG_CONFIG), wait_ack ? NLM_F_ACK : 0, AF_UNSPEC, queue_num_);
  attrs(msg);
  msg.end();
  if (::send(fd(), msg.data(), msg.size(), 0) < 0)
    return make_error(ErrorCode::kInternal, std::string("send: ") + std::strerror(errno));
  if (!wait_ack) return Ok{};
  // At set-up nothing is queued to us yet, so the next answer with our sequence is the ack.
  unsigned char buf[4096];
  for (int tries = 0; tries < 64; ++tries) {
    pollfd p{fd(), POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0)
      return make_error(ErrorCode::kInternal, "no answer from nfnetlink");
    ssize_t n = ::recv(fd(), buf, sizeof buf, 0);
    if (n < 0)
      return make_error(ErrorCode::kInternal, std::string("recv: ") + std::strerror(errno));
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != seq) continue;
      auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
      if (e->error == 0) return Ok{};
      return make_error(
          ErrorCode::kFailedPrecondition,
          e->error == -EBUSY ? "the queue number is taken" : std::string(std::strerror(-e->error)));
    }
  }
  return make_error(ErrorCode::kInternal, "no acknowledgement from nfnetlink");
}

bool NfqueueSocket::receive(std::vector<QueuedPacket>& out) {
  for (auto& m : msgs_) m.msg_len = 0;
  int n = ::recvmmsg(fd(), msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS;
  for (int i = 0; i < n; ++i) {
    int len = static_cast<int>(msgs_[i].msg_len);
    for (auto* h = static_cast<nlmsghdr*>(iov_[i].iov_base); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      // Only queued packets: an error (a verdict the kernel refused, e.g. while the namespace
      // goes away) answered as a packet would bring another error, and so on.
      if (h->nlmsg_type != kQueueMsg(NFQNL_MSG_PACKET)) continue;
      QueuedPacket p;
      bool have_id = false;
      size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
      while (off + NLA_HDRLEN <= h->nlmsg_len) {
        auto* a = reinterpret_cast<const nlattr*>(reinterpret_cast<const unsigned char*>(h) + off);
        if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len) break;
        const unsigned char* data = reinterpret_cast<const unsigned char*>(a) + NLA_HDRLEN;
        uint16_t type = a->nla_type & NLA_TYPE_MASK;
        if (type == NFQA_PACKET_HDR && a->nla_len >= NLA_HDRLEN + sizeof(nfqnl_msg_packet_hdr)) {
          nfqnl_msg_packet_hdr ph;
          std::memcpy(&ph, data, sizeof ph);
          p.id = ntohl(ph.packet_id);
          have_id = true;
        } else if (type == NFQA_PAYLOAD) {
          p.payload = data;
          p.payload_len = a->nla_len - NLA_HDRLEN;
        }
        off += NLA_ALIGN(a->nla_len);
      }
      if (!have_id) continue;
      // Ids count up per queue; one we never saw went past us.
      if (next_id_ != 0 && p.id > next_id_) bypassed_ += p.id - next_id_;
      next_id_ = p.id + 1;
      out.push_back(p);
    }
  }
  return true;
}

void NfqueueSocket::verdict(uint32_t id, bool accept, const unsigned char* payload,
                            uint32_t payload_len) {
  tx_->begin(kQueueMsg(NFQNL_MSG_VERDICT), 0, AF_UNSPEC, queue_num_);
  nfqnl_msg_verdict_hdr v{htonl(accept ? kAccept : kDrop), htonl(id)};
  tx_->put(NFQA_VERDICT_HDR, &v, sizeof v);
  if (payload) tx_->put(NFQA_PAYLOAD, payload, payload_len);
  tx_->end();
  // The kernel takes at most its send buffer in one send.
  if (tx_->size() > 96 * 1024) flush();
}

void NfqueueSocket::flush() {
  if (!tx_ || tx_->empty()) return;
  if (::send(fd(), tx_->data(), tx_->size(), 0) < 0)
    spdlog::warn("nfqueue verdicts not sent queue={} error=\"{}\"", queue_num_,
                 std::strerror(errno));
  tx_->clear();
}

void NfqueueSocket::unbind() {
  if (!fd_) return;
  flush();
  nfqnl_msg_config_cmd cmd{};
  cmd.command = NFQNL_CFG_CMD_UNBIND;
  (void)send_config([&](NetlinkBuilder& b) { b.put(NFQA_CFG_CMD, &cmd, sizeof cmd); }, false);
}

}  // namespace faultline::injector
