#include "proxy/tcp_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "common/log.h"
#include "common/socket_wait.h"
#include "proxy/lease_sweeper.h"
#include "proxy/link_pump.h"

namespace faultline::proxy {

struct TcpProxy::Connection {
  UniqueFd client, server;
  std::atomic<bool> stop{false};
  std::atomic<int> pumps{2};
  AbortHandOff abort;  // http_abort: how the two pumps hand over an answered request
};

namespace {

constexpr auto kDialTimeout = std::chrono::seconds(5);

Error bad_address(const std::string& hostport, const std::string& why) {
  return Error{ErrorCode::kInvalidArgument, "address " + hostport + ": " + why};
}

void close_with_reset(int fd) {
  linger l{1, 0};  // close() then sends a reset instead of a FIN
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

// Connects within the timeout; -1 with errno set when it cannot.
int dial(const Endpoint& to) {
  int fd = ::socket(to.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (int err = connect_by(fd, reinterpret_cast<const sockaddr*>(&to.addr), to.len,
                           std::chrono::steady_clock::now() + kDialTimeout)) {
    ::close(fd);
    errno = err;
    return -1;
  }
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

Result<Endpoint> parse_endpoint(const std::string& hostport) {
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return bad_address(hostport, "needs host:port");
  std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";  // ":8474", as Go's net package reads it
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535)
    return bad_address(hostport, "bad port " + port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || !res) return bad_address(hostport, gai_strerror(rc));
  Endpoint e;
  e.family = res->ai_family;
  std::memcpy(&e.addr, res->ai_addr, res->ai_addrlen);
  e.len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return e;
}

std::string endpoint_text(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  port = ntohs(in6->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

TcpProxy::TcpProxy(ProxyConfig config) : config_(std::move(config)) {}

TcpProxy::~TcpProxy() {
  std::lock_guard control(control_mu_);
  std::unique_lock lock(mu_);
  stop_locked(lock);
}

ProxyConfig TcpProxy::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

Status TcpProxy::start() {
  std::lock_guard control(control_mu_);
  std::lock_guard lock(mu_);
  if (!config_.enabled || listener_.get() >= 0) return Ok{};
  return listen_locked();
}

Status TcpProxy::listen_locked() {
  auto ep = parse_endpoint(config_.listen);
  if (!ep) return ep.error();
  UniqueFd fd(::socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Error{ErrorCode::kInternal, std::strerror(errno)};
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ep->addr), ep->len) != 0 ||
      ::listen(fd.get(), 512) != 0)
    return Error{ErrorCode::kInternal,  // Toxiproxy answers a bind failure with 500
                 "listen " + config_.listen + ": " + std::strerror(errno)};
  // Port 0 picks one: the proxy then reports the address it really listens on.
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  config_.listen = endpoint_text(reinterpret_cast<sockaddr*>(&bound));
  stopping_ = false;
  int raw = fd.get();
  listener_ = std::move(fd);
  acceptor_ = std::thread([this, raw] { accept_loop(raw); });
  spdlog::info("proxy listening name={} listen={} upstream={}", config_.name, config_.listen,
               config_.upstream);
  return Ok{};
}

void TcpProxy::stop_locked(std::unique_lock<std::mutex>& lock) {
  stopping_ = true;
  if (acceptor_.joinable()) {
    lock.unlock();  // the acceptor takes the lock to register connections
    acceptor_.join();
    lock.lock();
  }
  listener_.reset();
  for (auto& c : connections_) {
    c->stop = true;
    ::shutdown(c->client.get(), SHUT_RDWR);
    if (c->server.get() >= 0) ::shutdown(c->server.get(), SHUT_RDWR);
  }
  lock.unlock();
  {
    std::unique_lock live(live_mu_);
    live_cv_.wait(live, [&] { return live_threads_ == 0; });
  }
  lock.lock();
  connections_.clear();
}

Status TcpProxy::update(const ProxyConfig& next) {
  std::lock_guard control(control_mu_);
  return update_locked(next, std::nullopt);
}

Status TcpProxy::update(const std::function<Result<ProxyConfig>(const ProxyConfig&)>& change,
                        std::optional<int64_t> lease_ms) {
  std::lock_guard control(control_mu_);
  auto next = change(config());
  if (!next) return next.error();
  return update_locked(*next, lease_ms);
}

void TcpProxy::end_lease_locked() {
  lease_end_ns_.store(0, std::memory_order_relaxed);
  config_.lease_ms = 0;
}

Status TcpProxy::update_locked(const ProxyConfig& next, std::optional<int64_t> lease_ms) {
  if (lease_ms && *lease_ms > 0 && next.enabled)
    return Error{ErrorCode::kInvalidArgument,
                 "bad request body: lease_ms is a lease on a disabled proxy, and this one would "
                 "be enabled (send it with \"enabled\": false)"};
  std::unique_lock lock(mu_);
  if (next.enabled) {
    end_lease_locked();
  } else if (lease_ms && *lease_ms > 0) {
    lease_end_ns_.store(lease_end_ns(*lease_ms, ToxicSet::clock_ns()), std::memory_order_relaxed);
    config_.lease_ms = *lease_ms;
  } else if (lease_ms) {
    end_lease_locked();
  }
  bool moved = next.listen != config_.listen || next.upstream != config_.upstream;
  bool toggled = next.enabled != config_.enabled;
  if (!moved && !toggled) return Ok{};
  if (listener_.get() >= 0) stop_locked(lock);
  std::string old_listen = config_.listen;
  config_.listen = next.listen;
  config_.upstream = next.upstream;
  config_.enabled = next.enabled;
  if (!config_.enabled) {
    spdlog::info("proxy disabled name={} lease_ms={}", config_.name, config_.lease_ms);
    return Ok{};
  }
  return listen_locked();
}

bool TcpProxy::expire_lease(int64_t now_ns) {
  auto due = [&] {
    int64_t end = lease_end_ns_.load(std::memory_order_relaxed);
    return end > 0 && end <= now_ns;
  };
  if (!due()) return false;
  std::lock_guard control(control_mu_);
  std::unique_lock lock(mu_);
  if (!due()) return false;  // renewed or ended while this waited for the locks
  end_lease_locked();
  if (config_.enabled) return false;  // cannot be: enabling ends the lease
  config_.enabled = true;
  if (Status s = listen_locked(); !s)
    spdlog::warn("proxy not enabled again after its lease ran out name={} error=\"{}\"",
                 config_.name, s.error().message);
  else
    spdlog::info("proxy enabled again: its lease ran out name={}", config_.name);
  return true;
}

void TcpProxy::reap_locked() {
  connections_.remove_if([](const auto& c) { return c->pumps == 0; });
}

void TcpProxy::accept_loop(int listener) {
  while (!stopping_) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    auto c = std::make_shared<Connection>();
    c->client = UniqueFd(fd);
    {
      std::lock_guard lock(mu_);
      reap_locked();
      connections_.push_back(c);
    }
    {
      std::lock_guard live(live_mu_);
      live_threads_ += 2;
    }
    std::thread([this, c] { serve(c); }).detach();
  }
}

void TcpProxy::serve(std::shared_ptr<Connection> c) {
  auto done = [this] {
    std::lock_guard live(live_mu_);
    if (--live_threads_ == 0) live_cv_.notify_all();
  };
  std::string upstream = config().upstream;
  auto ep = parse_endpoint(upstream);
  int server = ep ? dial(*ep) : -1;
  if (server < 0) {
    spdlog::warn("proxy cannot reach its upstream name={} upstream={} error=\"{}\"", config().name,
                 upstream, ep ? std::strerror(errno) : ep.error().message);
    {
      std::lock_guard lock(mu_);
      c->pumps = 0;
      c->client.reset();  // closing the client's socket tells it
    }
    done();
    done();
    return;
  }
  {
    std::lock_guard lock(mu_);
    c->server = UniqueFd(server);
    if (c->stop) ::shutdown(server, SHUT_RDWR);  // stopped while dialling
  }
  std::random_device seed;
  uint64_t s1 = (static_cast<uint64_t>(seed()) << 32) | seed(), s2 = s1 * 0x9E3779B97F4A7C15ull;
  // Ends one direction; the last one to end closes both sockets.
  auto finish = [this, c](PumpEnd end, int to) {
    switch (end) {
      case PumpEnd::kEof:
        ::shutdown(to, SHUT_WR);  // pass the half-close on; the other way keeps going
        break;
      case PumpEnd::kReset:
        close_with_reset(c->client.get());
        close_with_reset(c->server.get());
        [[fallthrough]];
      case PumpEnd::kError:
      case PumpEnd::kClose:
      case PumpEnd::kStopped:
        c->stop = true;
        ::shutdown(c->client.get(), SHUT_RD);  // wakes the other direction
        ::shutdown(c->server.get(), SHUT_RD);
        break;
    }
    if (--c->pumps == 0) {
      std::lock_guard lock(mu_);
      c->client.reset();
      c->server.reset();
    }
  };
  std::thread up([this, c, s2, finish, done] {
    LinkPump pump(c->client.get(), c->server.get(), Stream::kUpstream, toxics_, c->abort, c->stop,
                  s2);
    finish(pump.run(), c->server.get());
    done();
  });
  up.detach();
  LinkPump pump(c->server.get(), c->client.get(), Stream::kDownstream, toxics_, c->abort, c->stop,
                s1);
  finish(pump.run(), c->client.get());
  done();
}

}  // namespace faultline::proxy
