#include "common/metrics/metrics_server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace faultline::metrics {
namespace {

Error bad_address(const std::string& text, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument,
                    "\"" + text + "\": " + why + " (expected HOST:PORT, e.g. 127.0.0.1:9464)");
}

// Only on the failure path: httplib says no more than "false", so bind once more ourselves to
// tell a port in use from a host that is not this machine's.
std::string why_bind_failed(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return "cannot resolve host \"" + host + "\": " + gai_strerror(rc);
  std::string why = "bind failed";
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 1) != 0)
      why = errno == EADDRINUSE ? "port " + std::to_string(port) + " is already in use"
                                : std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(found);
  return why;
}

}  // namespace

Result<ListenAddress> parse_listen_address(const std::string& text) {
  ListenAddress a;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return bad_address(text, "unclosed '['");
    a.host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return bad_address(text, "no port after the IPv6 address");
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad_address(text, "no port");
    a.host = text.substr(0, colon);
    if (a.host.find(':') != std::string::npos)
      return bad_address(text, "an IPv6 address needs brackets, e.g. [::1]:9464");
    port_text = text.substr(colon + 1);
  }
  if (a.host.empty()) return bad_address(text, "no host (0.0.0.0 listens on every interface)");
  const char* end = port_text.data() + port_text.size();
  auto r = std::from_chars(port_text.data(), end, a.port);
  if (port_text.empty() || r.ec != std::errc() || r.ptr != end || a.port < 0 || a.port > 65535)
    return bad_address(text, "port \"" + port_text + "\" is not a number from 0 to 65535");
  return a;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen,
                                                            const Registry& registry) {
  auto addr = parse_listen_address(listen);
  if (!addr) return addr.error();
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->host_ = addr->host;
  s->server_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *s->server_;
  // httplib's default adds SO_REUSEPORT, which would let a second server share a busy port
  // and split the scrapes between them; a port in use must be an error instead.
  http.set_socket_options([](socket_t fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // A scrape a second or so: two workers are plenty, and the daemons stay small.
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry.render(), kTextContentType);
  });
  if (addr->port == 0) {
    s->port_ = http.bind_to_any_port(addr->host);
    if (s->port_ <= 0)
      return make_error(ErrorCode::kUnavailable,
                        "cannot listen on " + listen + ": " + why_bind_failed(addr->host, 0));
  } else {
    if (!http.bind_to_port(addr->host, addr->port))
      return make_error(ErrorCode::kUnavailable, "cannot listen on " + listen + ": " +
                                                     why_bind_failed(addr->host, addr->port));
    s->port_ = addr->port;
  }
  s->thread_ = std::thread([&http] { http.listen_after_bind(); });
  // stop() is a no-op until the loop runs: wait for it, so a quick destruction cannot hang.
  for (int i = 0; i < 2000 && !http.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return s;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace faultline::metrics
