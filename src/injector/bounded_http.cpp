#include "injector/bounded_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/socket_wait.h"
#include "common/unique_fd.h"

// A small HTTP/1.1 client of its own rather than libcurl or httplib: the injector talks to few
// peers here, all asking "Connection: close"; libcurl brought 20-odd libraries (GnuTLS,
// Kerberos, LDAP, ...) into a root daemon that uses none of them (5 MiB more resident memory
// on an idle injector), and httplib's reader grows a line until it sees a newline and times
// each read rather than the call.

namespace faultline::injector {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHead = 64 << 10;

Error failure(const std::string& what, const std::string& why) {
  return Error{ErrorCode::kUnavailable, what + ": " + why};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The body of a chunked message; false when it is malformed or incomplete.
bool dechunk(const std::string& in, std::string& out) {
  size_t at = 0;
  for (;;) {
    size_t eol = in.find("\r\n", at);
    if (eol == std::string::npos) return false;
    char* end = nullptr;
    std::string size_text = in.substr(at, eol - at);
    unsigned long long size = std::strtoull(size_text.c_str(), &end, 16);
    if (end == size_text.c_str() || (*end != '\0' && *end != ';')) return false;
    at = eol + 2;
    if (size == 0) return true;  // trailers, if any, are of no interest
    if (size > in.size() - at) return false;
    out.append(in, at, size);
    at += size;
    if (in.compare(at, 2, "\r\n") != 0) return false;
    at += 2;
  }
}

// Sends the request on a connected, non-blocking socket and reads the whole answer.
Result<HttpAnswer> exchange(int fd, const std::string& what, const std::string& method,
                            const std::string& target, const std::string& body,
                            Clock::time_point deadline, size_t max_body);

}  // namespace

Result<HttpAnswer> unix_http(const std::string& socket, const std::string& method,
                             const std::string& target, std::chrono::milliseconds timeout,
                             size_t max_body) {
  const std::string what = method + " " + target + " on " + socket;
  const auto deadline = Clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.empty() || socket.size() >= sizeof addr.sun_path)
    return failure(what, "not a usable socket path");
  std::memcpy(addr.sun_path, socket.c_str(), socket.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return failure(what, std::strerror(errno));
  if (int err = connect_by(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, deadline))
    return failure(what, err == ETIMEDOUT ? "timed out connecting" : std::strerror(err));
  return exchange(fd.get(), what, method, target, "", deadline, max_body);
}

Result<HttpAnswer> tcp_http(const std::string& host, uint16_t port, const std::string& method,
                            const std::string& target, const std::string& body,
                            std::chrono::milliseconds timeout, size_t max_body) {
  const std::string what = method + " " + target + " on " + host + ":" + std::to_string(port);
  const auto deadline = Clock::now() + timeout;
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return failure(what, "not an IP address");
  }
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return failure(what, std::strerror(errno));
  if (int err = connect_by(fd.get(), reinterpret_cast<sockaddr*>(&addr), len, deadline)) {
    if (err == ECONNREFUSED) return Error{ErrorCode::kNotFound, what + ": connection refused"};
    return failure(what, err == ETIMEDOUT ? "timed out connecting" : std::strerror(err));
  }
  return exchange(fd.get(), what, method, target, body, deadline, max_body);
}

namespace {

Result<HttpAnswer> exchange(int fd, const std::string& what, const std::string& method,
                            const std::string& target, const std::string& body,
                            Clock::time_point deadline, size_t max_body) {
  // "Connection: close": the answer ends where the stream does.
  std::string request = method + " " + target +
                        " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: faultline\r\n"
                        "Connection: close\r\n";
  if (!body.empty())
    request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
  else
    request += std::string(method == "GET" ? "" : "Content-Length: 0\r\n") + "\r\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_ready(fd, POLLOUT, deadline)) return failure(what, "timed out sending");
    } else {
      return failure(what, std::strerror(errno));
    }
  }

  std::string raw;
  const size_t cap = max_body + kMaxHead;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (raw.size() > cap)
        return failure(what, "answer larger than " + std::to_string(max_body) + " bytes");
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_ready(fd, POLLIN, deadline)) return failure(what, "timed out");
    } else {
      return failure(what, std::strerror(errno));
    }
  }

  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || head_end > kMaxHead)
    return failure(what, "not an HTTP answer");
  HttpAnswer resp;
  if (raw.compare(0, 5, "HTTP/") != 0 || raw.size() < 12 || raw[8] != ' ')
    return failure(what, "not an HTTP answer");
  resp.status = std::strtol(raw.c_str() + 9, nullptr, 10);
  if (resp.status < 100 || resp.status > 599) return failure(what, "not an HTTP answer");
  bool chunked = false;
  long long length = -1;
  size_t at = raw.find("\r\n") + 2;
  while (at < head_end) {
    size_t eol = raw.find("\r\n", at);
    std::string line = raw.substr(at, eol - at);
    at = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = lower(line.substr(0, colon));
    size_t start = line.find_first_not_of(" \t", colon + 1);
    std::string value = start == std::string::npos ? "" : line.substr(start);
    if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos)
      chunked = true;
    if (name == "content-length") length = std::atoll(value.c_str());
  }
  std::string received = raw.substr(head_end + 4);
  if (chunked) {
    if (!dechunk(received, resp.body)) return failure(what, "the chunked answer was cut short");
  } else if (length >= 0) {
    if (received.size() < static_cast<size_t>(length))
      return failure(what, "the answer was cut short");
    resp.body = received.substr(0, static_cast<size_t>(length));
  } else {
    resp.body = std::move(received);
  }
  if (resp.body.size() > max_body)
    return failure(what, "answer larger than " + std::to_string(max_body) + " bytes");
  return resp;
}

}  // namespace

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace faultline::injector
