#include "injector/containers/unix_http.h"

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

// A small HTTP/1.1 client of its own rather than libcurl: the injector talks to exactly one
// kind of peer here (a container engine's unix socket, asking "Connection: close"), and
// libcurl brought 20-odd libraries (GnuTLS, Kerberos, LDAP, ...) into a root daemon that uses
// none of them: 5 MiB more resident memory on an idle injector.

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

}  // namespace

Result<UnixHttpResponse> unix_http(const std::string& socket, const std::string& method,
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

  // "Connection: close": the answer ends where the stream does.
  std::string request = method + " " + target +
                        " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: faultline\r\n"
                        "Connection: close\r\n" +
                        (method == "POST" ? "Content-Length: 0\r\n" : "") + "\r\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_ready(fd.get(), POLLOUT, deadline)) return failure(what, "timed out sending");
    } else {
      return failure(what, std::strerror(errno));
    }
  }

  std::string raw;
  const size_t cap = max_body + kMaxHead;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (raw.size() > cap)
        return failure(what, "answer larger than " + std::to_string(max_body) + " bytes");
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_ready(fd.get(), POLLIN, deadline)) return failure(what, "timed out");
    } else {
      return failure(what, std::strerror(errno));
    }
  }

  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || head_end > kMaxHead)
    return failure(what, "not an HTTP answer");
  UnixHttpResponse resp;
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
  std::string body = raw.substr(head_end + 4);
  if (chunked) {
    if (!dechunk(body, resp.body)) return failure(what, "the chunked answer was cut short");
  } else if (length >= 0) {
    if (body.size() < static_cast<size_t>(length)) return failure(what, "the answer was cut short");
    resp.body = body.substr(0, static_cast<size_t>(length));
  } else {
    resp.body = std::move(body);
  }
  if (resp.body.size() > max_body)
    return failure(what, "answer larger than " + std::to_string(max_body) + " bytes");
  return resp;
}

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
