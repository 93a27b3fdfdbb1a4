#include "injector/intercept/http_interceptor.h"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "common/log.h"

namespace faultline::injector::intercept {

namespace {

// Connections served at once, at most (each holds two threads and three descriptors; a TLS one
// four threads and seven descriptors).
constexpr size_t kMaxConnections = 4096;

// Where the client meant to go, before REDIRECT changed it: from conntrack.
bool original_destination(int fd, sockaddr_storage& dst, socklen_t& len) {
  sockaddr_in6 peer{};
  socklen_t plen = sizeof peer;
  ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen);
  if (peer.sin6_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr)) {
    len = sizeof(sockaddr_in6);
    return ::getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len) == 0;
  }
  len = sizeof(sockaddr_in);
  return ::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) == 0;
}

uint16_t port_of(const sockaddr_storage& a) {
  return ntohs(a.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(a).sin6_port
                                       : reinterpret_cast<const sockaddr_in&>(a).sin_port);
}

}  // namespace

HttpInterceptor::HttpInterceptor(HttpRules rules, uint32_t own_mark,
                                 std::unique_ptr<TlsTerminator> tls)
    : rules_(std::move(rules)), mark_(own_mark), tls_(std::move(tls)) {}

HttpInterceptor::~HttpInterceptor() {
  drain(0);
}

Result<uint16_t> HttpInterceptor::listen() {
  listener_ = UniqueFd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_)
    return make_error(ErrorCode::kInternal, std::string("socket: ") + strerror(errno));
  int zero = 0;
  ::setsockopt(listener_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;  // REDIRECT lands on the arriving interface's address, or loopback
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener_.get(), 1024) != 0)
    return make_error(ErrorCode::kInternal, std::string("listen: ") + strerror(errno));
  socklen_t len = sizeof a;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin6_port);
  return port_;
}

void HttpInterceptor::run() {
  acceptor_ = std::thread([this] { accept_loop(); });
}

void HttpInterceptor::accept_loop() {
  for (;;) {
    // Finished connections are reaped between accepts, and at least once a second while none
    // comes, so a burst that ended does not keep its threads until the next client.
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) == 0) {
      if (drain_.started()) return;
      reap(false);
      continue;
    }
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (!drain_.started()) continue;
      }
      return;  // the listener was shut down: the drain began
    }
    reap(false);
    serve(UniqueFd(fd));
  }
}

void HttpInterceptor::serve(UniqueFd client) {
  stats_.connections++;
  sockaddr_storage dst{};
  socklen_t len = 0;
  // No original destination (not redirected), or this very port (a loop): refused.
  if (!original_destination(client.get(), dst, len) || port_of(dst) == port_) return;
  std::lock_guard lock(mu_);
  if (served_.size() >= kMaxConnections) {
    stats_.upstream_errors++;  // over the cap: refused, as an overloaded proxy would
    return;
  }
  served_.push_back({std::make_unique<HttpConnection>(std::move(client), dst, len, mark_, rules_,
                                                      stats_, drain_, tls_.get()),
                     {}});
  HttpConnection* conn = served_.back().conn.get();
  try {
    served_.back().thread = std::thread([conn] { conn->run(); });
  } catch (const std::system_error&) {
    served_.pop_back();  // no thread for it: the client's connection closes
    stats_.upstream_errors++;
  }
}

void HttpInterceptor::reap(bool all) {
  std::list<Served> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = served_.begin(); it != served_.end();) {
      auto next = std::next(it);
      if (all || it->conn->finished()) done.splice(done.end(), served_, it);
      it = next;
    }
  }
  for (auto& s : done)
    if (s.thread.joinable()) s.thread.join();
}

void HttpInterceptor::drain(uint64_t deadline_ms) {
  if (!listener_) return;
  drain_.start();
  ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  for (;;) {
    reap(false);
    {
      std::lock_guard lock(mu_);
      if (served_.empty()) break;
      if (std::chrono::steady_clock::now() >= until) {
        for (auto& s : served_) s.conn->kill();
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  reap(true);
  listener_.reset();
}

}  // namespace faultline::injector::intercept
