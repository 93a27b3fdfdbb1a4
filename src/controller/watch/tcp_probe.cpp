#include "controller/watch/tcp_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/socket_wait.h"
#include "common/time_util.h"

namespace faultline::controller {
namespace {

// Owns a socket descriptor.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TcpProbe::TcpProbe(std::string name, experiments::TcpProbeSpec spec, Duration timeout,
                   std::shared_ptr<const DestinationGuard> destinations)
    : name_(std::move(name)),
      spec_(std::move(spec)),
      timeout_(timeout),
      destinations_(std::move(destinations)) {}

ProbeOutcome TcpProbe::run() {
  auto start = MonoClock::now();
  auto done = [&](bool ok, std::string observed) {
    return ProbeOutcome{ok, std::move(observed), MonoClock::now() - start};
  };
  size_t colon = spec_.address.rfind(':');
  std::string host = spec_.address.substr(0, colon), port = spec_.address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (destinations_ && destinations_->restricts()) {
    // Dial the address that was checked, not a fresh answer for the name.
    auto pinned = destinations_->pin(host);
    if (!pinned) return done(false, "refused: " + pinned.error().message);
    host = *pinned;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return done(false, "cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addrs(res, ::freeaddrinfo);
  Fd s;
  s.fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return done(false, std::string("socket: ") + std::strerror(errno));
  int err =
      connect_by(s.fd, res->ai_addr, res->ai_addrlen, std::chrono::steady_clock::now() + timeout_);
  if (err == ETIMEDOUT) return done(false, "connect timed out after " + format_duration(timeout_));
  if (err != 0) return done(false, std::string("connect: ") + std::strerror(err));
  return done(true, "connected to " + spec_.address);
}

}  // namespace faultline::controller
