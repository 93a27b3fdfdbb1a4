#include "injector/network/netlink_builder.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "injector/network/netns.h"

namespace faultline::injector {

Result<UniqueFd> open_nfnetlink(const std::string& netns) {
  UniqueFd fd;
  {
    ScopedNetns in(netns);
    if (!in.ok()) return make_error(ErrorCode::kNotFound, in.error());
    fd = UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  }
  if (!fd)
    return make_error(ErrorCode::kFailedPrecondition,
                      std::string("nfnetlink socket: ") + std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    return make_error(ErrorCode::kInternal, std::string("bind: ") + std::strerror(errno));
  return fd;
}

uint32_t NetlinkBuilder::begin(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
  message_start_ = buf_.size();
  nlmsghdr h{};
  h.nlmsg_type = type;
  h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  h.nlmsg_seq = ++seq_;
  nfgenmsg g{};
  g.nfgen_family = family;
  g.version = NFNETLINK_V0;
  g.res_id = htons(res_id);
  buf_.resize(message_start_ + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof g), 0);
  std::memcpy(buf_.data() + message_start_, &h, sizeof h);
  std::memcpy(buf_.data() + message_start_ + NLMSG_HDRLEN, &g, sizeof g);
  return seq_;
}

void NetlinkBuilder::end() {
  auto* h = reinterpret_cast<nlmsghdr*>(buf_.data() + message_start_);
  h->nlmsg_len = static_cast<uint32_t>(buf_.size() - message_start_);
}

void NetlinkBuilder::put(uint16_t type, const void* data, size_t len) {
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
  a.nla_type = type;
  size_t at = buf_.size();
  buf_.resize(at + NLA_ALIGN(NLA_HDRLEN + len), 0);
  std::memcpy(buf_.data() + at, &a, sizeof a);
  if (len) std::memcpy(buf_.data() + at + NLA_HDRLEN, data, len);
}

void NetlinkBuilder::put_string(uint16_t type, const std::string& s) {
  put(type, s.c_str(), s.size() + 1);
}

void NetlinkBuilder::put_be32(uint16_t type, uint32_t v) {
  uint32_t be = htonl(v);
  put(type, &be, sizeof be);
}

void NetlinkBuilder::put_be16(uint16_t type, uint16_t v) {
  uint16_t be = htons(v);
  put(type, &be, sizeof be);
}

size_t NetlinkBuilder::begin_nested(uint16_t type) {
  size_t at = buf_.size();
  put(static_cast<uint16_t>(type | NLA_F_NESTED), nullptr, 0);
  return at;
}

void NetlinkBuilder::end_nested(size_t start) {
  auto* a = reinterpret_cast<nlattr*>(buf_.data() + start);
  a->nla_len = static_cast<uint16_t>(buf_.size() - start);
}

}  // namespace faultline::injector
