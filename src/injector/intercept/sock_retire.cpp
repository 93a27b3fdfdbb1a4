#include "injector/intercept/sock_retire.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "common/unique_fd.h"

namespace faultline::injector::intercept {

namespace {

constexpr uint32_t kIdleMs = 2;

struct DiagSocket {
  inet_diag_sockid id{};
  uint8_t family = 0;
  uint32_t rqueue = 0, wqueue = 0, mark = 0, unacked = 0, last_sent = 0, last_recv = 0;
  bool has_info = false;
  uint64_t cookie() const { return (uint64_t{id.idiag_cookie[1]} << 32) | id.idiag_cookie[0]; }
};

bool send_request(int fd, uint16_t type, uint16_t flags, const inet_diag_req_v2& req) {
  struct {
    nlmsghdr h;
    inet_diag_req_v2 r;
  } msg{};
  msg.h.nlmsg_len = sizeof msg;
  msg.h.nlmsg_type = type;
  msg.h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  msg.r = req;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  return ::sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) ==
         static_cast<ssize_t>(sizeof msg);
}

// Every established TCP socket of one family, with its queues, mark and tcp_info timings.
bool dump(int fd, uint8_t family, std::vector<DiagSocket>& out) {
  inet_diag_req_v2 req{};
  req.sdiag_family = family;
  req.sdiag_protocol = IPPROTO_TCP;
  req.idiag_states = 1u << 1;  // TCP_ESTABLISHED
  req.idiag_ext = 1u << (INET_DIAG_INFO - 1);
  if (!send_request(fd, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, req)) return false;
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) return false;
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
          h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
        continue;
      auto* m = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
      DiagSocket s;
      s.id = m->id;
      s.family = m->idiag_family;
      s.rqueue = m->idiag_rqueue;
      s.wqueue = m->idiag_wqueue;
      int alen = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (auto* a = reinterpret_cast<rtattr*>(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type == INET_DIAG_MARK && RTA_PAYLOAD(a) >= 4) {
          std::memcpy(&s.mark, RTA_DATA(a), 4);
        } else if (a->rta_type == INET_DIAG_INFO) {
          tcp_info info{};
          std::memcpy(&info, RTA_DATA(a), std::min<size_t>(RTA_PAYLOAD(a), sizeof info));
          s.unacked = info.tcpi_unacked;
          s.last_sent = info.tcpi_last_data_sent;
          s.last_recv = info.tcpi_last_data_recv;
          s.has_info = true;
        }
      }
      out.push_back(s);
    }
  }
}

bool destroy(int fd, const DiagSocket& s) {
  inet_diag_req_v2 req{};
  req.sdiag_family = s.family;
  req.sdiag_protocol = IPPROTO_TCP;
  req.idiag_states = ~0u;
  req.id = s.id;
  if (!send_request(fd, SOCK_DESTROY, NLM_F_ACK, req)) return false;
  alignas(nlmsghdr) char buf[1024];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n <= 0) return false;
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  // Only the kernel's acknowledgement says the socket is gone.
  if (static_cast<size_t>(n) < NLMSG_LENGTH(sizeof(nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR)
    return false;
  int err = static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
  return err == 0 || err == -ENOENT;  // gone already: retired all the same
}

// Whether the socket's peer is in one of the CIDRs (an IPv4 peer of an IPv6 socket, ::ffff:a.b.c.d,
// is compared as the IPv4 address it is).
bool in_cidrs(const DiagSocket& s, const std::vector<std::string>& cidrs) {
  if (cidrs.empty()) return true;
  unsigned char addr[16];
  std::memcpy(addr, s.id.idiag_dst, 16);
  int family = s.family;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (family == AF_INET6 && std::memcmp(addr, kMapped, 12) == 0) {
    std::memmove(addr, addr + 12, 4);
    family = AF_INET;
  }
  size_t bytes = family == AF_INET6 ? 16 : 4;
  for (const auto& c : cidrs) {
    std::string text = c.substr(0, c.find('/'));
    unsigned char want[16] = {};
    if (inet_pton(family, text.c_str(), want) != 1) continue;
    size_t prefix = c.find('/') == std::string::npos
                        ? bytes * 8
                        : std::strtoul(c.c_str() + c.find('/') + 1, nullptr, 10);
    bool match = true;
    for (size_t bit = 0; bit < prefix && bit < bytes * 8 && match; ++bit) {
      unsigned char m = static_cast<unsigned char>(0x80 >> (bit % 8));
      match = (addr[bit / 8] & m) == (want[bit / 8] & m);
    }
    if (match) return true;
  }
  return false;
}

bool in_scope(const DiagSocket& s, const RetireScope& scope) {
  if (s.mark == scope.own_mark && scope.own_mark != 0) return false;
  // The peer is the client (ingress: `destinations` name the clients) or the server (egress).
  const uint16_t port = ntohs(scope.ingress ? s.id.idiag_sport : s.id.idiag_dport);
  return scope.ports.count(port) > 0 && in_cidrs(s, scope.destinations);
}

bool idle(const DiagSocket& s) {
  return s.rqueue == 0 && s.wqueue == 0 && s.has_info && s.unacked == 0 && s.last_sent >= kIdleMs &&
         s.last_recv >= kIdleMs;
}

}  // namespace

namespace {

bool list_all(int fd, std::vector<DiagSocket>& all) {
  all.clear();
  return dump(fd, AF_INET, all) && dump(fd, AF_INET6, all);
}

UniqueFd diag_socket() {
  return UniqueFd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
}

}  // namespace

ConnectionSnapshot snapshot_connections(const RetireScope& scope) {
  ConnectionSnapshot out;
  UniqueFd fd = diag_socket();
  std::vector<DiagSocket> all;
  if (!fd || !list_all(fd.get(), all)) {
    out.error = std::string("sock_diag: ") + strerror(errno);
    return out;
  }
  for (const auto& s : all)
    if (in_scope(s, scope)) out.cookies.insert(s.cookie());
  return out;
}

RetireOutcome retire_connections(const ConnectionSnapshot& snapshot,
                                 std::chrono::milliseconds deadline) {
  RetireOutcome out;
  std::set<uint64_t> left = snapshot.cookies;
  if (left.empty()) return out;
  UniqueFd fd = diag_socket();
  std::vector<DiagSocket> all;
  if (!fd || !list_all(fd.get(), all)) {
    out.error = std::string("sock_diag: ") + strerror(errno);
    return out;
  }
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    const bool last = std::chrono::steady_clock::now() >= until;
    std::set<uint64_t> seen;
    for (const auto& s : all) {
      if (!left.count(s.cookie())) continue;
      seen.insert(s.cookie());
      if (!idle(s) && !last) continue;
      if (destroy(fd.get(), s)) {
        out.retired++;
        if (!idle(s)) out.busy++;
      }
      left.erase(s.cookie());
    }
    std::erase_if(left, [&](uint64_t c) { return !seen.count(c); });  // closed by themselves
    if (left.empty() || last) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!list_all(fd.get(), all)) break;
  }
  return out;
}

}  // namespace faultline::injector::intercept
