#include "injector/intercept/http_connection.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>
#include <system_error>
#include <thread>

#include "common/socket_wait.h"
#include "injector/intercept/socket_io.h"

namespace faultline::injector::intercept {

namespace {

void wake(int efd) {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(efd, &one, sizeof one);
}

bool looks_like_tls(std::string_view buf) {
  return !buf.empty() && buf[0] == 0x16;  // a TLS handshake record: the ClientHello
}

}  // namespace

void Drain::start() {
  {
    std::lock_guard lock(mu_);
    started_ = true;
  }
  cv_.notify_all();
}

void Drain::sleep_for_us(uint64_t us) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::microseconds(us), [&] { return started_.load(); });
}

HttpConnection::HttpConnection(UniqueFd client, const sockaddr_storage& destination,
                               socklen_t length, uint32_t mark, const HttpRules& rules,
                               InterceptStats& stats, Drain& drain, const TlsTerminator* tls)
    : client_(std::move(client)),
      wake_(::eventfd(0, EFD_CLOEXEC)),
      destination_(destination),
      destination_len_(length),
      mark_(mark),
      rules_(rules),
      tls_(tls),
      stats_(stats),
      drain_(drain) {}

HttpConnection::~HttpConnection() = default;

// The client's own connection to where it meant to go, from a socket carrying the mark the
// REDIRECT rules let through. Done here, not in the accepting thread: a slow or unreachable
// destination holds up only its own client.
bool HttpConnection::dial() {
  upstream_ =
      UniqueFd(::socket(destination_.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!upstream_) return false;
  // Unmarked, the connection would be redirected back to the interceptor: refuse instead.
  if (::setsockopt(upstream_.get(), SOL_SOCKET, SO_MARK, &mark_, sizeof mark_) != 0) return false;
  int one = 1;
  ::setsockopt(upstream_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(client_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect_by(upstream_.get(), reinterpret_cast<sockaddr*>(&destination_), destination_len_,
                 std::chrono::steady_clock::now() + std::chrono::seconds(5)) != 0)
    return false;
  int fl = ::fcntl(upstream_.get(), F_GETFL);
  return ::fcntl(upstream_.get(), F_SETFL, fl & ~O_NONBLOCK) == 0;  // each side has a thread
}

bool HttpConnection::terminate_tls() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  if (!starts_with_tls(client_.get(), deadline)) return true;  // plain HTTP (or silence)
  UniqueFd network_client, network_upstream;
  {
    std::lock_guard lock(fd_mu_);
    network_client = std::move(client_);
    network_upstream = std::move(upstream_);
  }
  UniqueFd plain_client, plain_upstream;
  std::string sni;
  auto server_side = tls_->accept(std::move(network_client), deadline, plain_client, sni);
  if (!server_side) {
    stats_.tls_failed++;
    return false;
  }
  // The server hears the name the client asked for, so a virtual host answers as itself.
  auto client_side = tls_->connect(std::move(network_upstream), sni, deadline, plain_upstream);
  if (!client_side) {
    stats_.tls_failed++;
    return false;
  }
  client_tls_ = std::move(*server_side);
  upstream_tls_ = std::move(*client_side);
  // Four threads for a TLS connection: one that cannot start ends this connection, not the
  // helper (the relay already started sees its plaintext end close and stops).
  if (!client_tls_->start() || !upstream_tls_->start()) {
    stats_.upstream_errors++;
    return false;
  }
  std::lock_guard lock(fd_mu_);
  client_ = std::move(plain_client);
  upstream_ = std::move(plain_upstream);
  stats_.tls_terminated++;
  return !dead_;  // killed during the handshakes: end now
}

void HttpConnection::run() {
  if (!wake_ || !dial()) {
    // The client sees its connection refused, as it would if the server were not there.
    stats_.upstream_errors++;
    linger l{1, 0};
    ::setsockopt(client_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  } else if (tls_ && !terminate_tls()) {
    // A failed handshake on either side: the client's connection ends (closed above).
  } else {
    std::thread responses;
    try {
      responses = std::thread([this] { response_side(); });
    } catch (const std::system_error&) {
      stats_.upstream_errors++;  // no thread to serve it: closed, the client retries
    }
    if (responses.joinable()) {
      request_side();
      {
        std::lock_guard lock(mu_);
        requests_done_ = true;
      }
      wake(wake_.get());
      responses.join();
    }
  }
  {
    // Closed here, not when the interceptor gets round to destroying the connection: a reset
    // must reach both peers now.
    std::lock_guard lock(fd_mu_);
    client_.reset();
    upstream_.reset();
  }
  // The relays see their plaintext ends close: each sends its close_notify and ends.
  client_tls_.reset();
  upstream_tls_.reset();
  finished_ = true;
}

void HttpConnection::kill() {
  std::lock_guard lock(fd_mu_);
  dead_ = true;  // also while TLS handshakes hold the sockets: the connection ends after them
  if (!client_) return;
  ::shutdown(client_.get(), SHUT_RDWR);
  if (upstream_) ::shutdown(upstream_.get(), SHUT_RDWR);
  wake(wake_.get());
  space_.notify_all();
}

bool HttpConnection::push(Pending p) {
  const auto kind = p.kind;
  {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return fifo_.size() < kMaxPending || dead_ || closing_; });
    if (dead_ || closing_) return false;
    fifo_.push_back(std::move(p));
  }
  // A request that goes to the server needs no wake-up: its answer arriving wakes the response
  // side, which then finds the request queued. One thread switch less per request.
  if (kind != Pending::kUpstream) wake(wake_.get());
  return true;
}

bool HttpConnection::forward_upstream(std::string_view bytes) {
  if (write_all(upstream_.get(), bytes)) return true;
  stats_.upstream_errors++;
  return false;
}

// Waits for client bytes. While draining, wakes every few ms to see whether the connection has
// gone idle, and gives up reading then (false, with nothing lost: no request was under way).
bool HttpConnection::read_client(std::string& buf) {
  for (;;) {
    if (dead_ || closing_) return false;
    if (drain_.started() && buf.empty()) {
      std::lock_guard lock(mu_);
      if (fifo_.empty()) return false;
    }
    pollfd p{client_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, drain_.started() ? 5 : 100);
    if (r < 0 && errno != EINTR) return false;
    if (r > 0) return read_some(client_.get(), buf);
  }
}

// The body of a request whose head was just taken from `buf`: forwarded (or dropped) up to
// where it ends; what follows stays in `buf` as the next request.
bool HttpConnection::forward_request_body(std::string& buf, http::BodyScanner& body, bool send) {
  while (!body.done()) {
    if (buf.empty() && !read_some(client_.get(), buf)) return false;
    size_t n = body.feed(buf);
    if (body.failed()) return false;
    if (send && !forward_upstream(std::string_view(buf).substr(0, n))) return false;
    buf.erase(0, n);
  }
  return true;
}

void HttpConnection::raw_copy(int from, int to, std::string& pending) {
  if (write_all(to, pending)) {
    pending.clear();
    while (!dead_ && read_some(from, pending)) {
      if (!write_all(to, pending)) break;
      pending.clear();
    }
  }
  ::shutdown(to, SHUT_WR);
}

void HttpConnection::reset_both() {
  // Closing with a zero linger sends RST on both connections, as a crashing proxy would; the
  // sockets close as run() ends.
  linger l{1, 0};
  ::setsockopt(client_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::setsockopt(upstream_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  dead_ = true;
  ::shutdown(client_.get(), SHUT_RD);  // wakes the request side's read without a FIN
  space_.notify_all();
}

// The connection cannot go on (a body that does not frame, a server gone): both ends hear it
// is over, the answers already written first.
void HttpConnection::end_gracefully() {
  ::shutdown(upstream_.get(), SHUT_RDWR);
}

void HttpConnection::request_side() {
  std::string buf;
  size_t scanned = 0;
  for (;;) {
    if (dead_) return;
    http::RequestHead head;
    http::ParseOutcome out;
    if (!buf.empty()) out = http::parse_request_head(buf, head, http::kMaxHead, scanned);
    if (buf.empty() || out.state == http::Parse::kNeedMore) {
      scanned = buf.empty() ? 0 : out.head_bytes;
      if (!read_client(buf)) break;
      continue;
    }
    scanned = 0;
    if (out.state == http::Parse::kError) {
      // Not HTTP/1 we can follow (TLS, h2c's preface, a malformed head): passed through
      // untouched for the rest of the connection, counted, never broken by the interceptor.
      stats_.uninspected++;
      if (first_request_ && looks_like_tls(buf)) stats_.tls++;
      if (push({Pending::kRaw})) raw_copy(client_.get(), upstream_.get(), buf);
      return;
    }
    first_request_ = false;
    stats_.requests++;
    const CompiledRule* rule = drain_.started() ? nullptr : rules_.decide(head, stats_);
    const std::string action = rule ? rule->rule.action() : "";
    http::BodyScanner body(head.body, head.content_length);
    std::string_view head_bytes(buf.data(), out.head_bytes);
    if (action == "reset") {
      // In the request's slot: the answers to the requests before it still go out first.
      stats_.reset++;
      push({Pending::kReset});
      return;
    }
    if (action == "abort") {
      stats_.aborted++;
      buf.erase(0, out.head_bytes);
      // A client waiting for "100 Continue" sends no body: answer and close, since whether the
      // body follows is then the client's guess.
      bool waits = head.expect_continue && head.body != http::Framing::kNone;
      bool close = !head.keep_alive || waits || head.upgrade;
      const bool head_only = head.method == "HEAD";
      const std::string* answer = head_only
                                      ? (close ? &rule->abort_head_closing : &rule->abort_head)
                                      : (close ? &rule->abort_closing : &rule->abort_response);
      if (!push({Pending::kAnswer, answer, close}) || close) return;
      if (!forward_request_body(buf, body, false)) return end_gracefully();
      continue;
    }
    if (action == "delay") {
      stats_.delayed++;
      drain_.sleep_for_us(jittered_us(rule->rule.delay_us(), rule->rule.jitter_us()));
    } else if (action == "replace") {
      stats_.replaced++;
    } else {
      stats_.passed++;
    }
    if (head.upgrade) {
      std::lock_guard lock(mu_);
      upgrade_ = Upgrade::kAsked;
    }
    if (!push({Pending::kUpstream, nullptr, !head.keep_alive, head.method,
               action == "replace" ? rule : nullptr, head.upgrade}))
      return;
    if (!forward_upstream(head_bytes)) return;
    buf.erase(0, out.head_bytes);
    if (!forward_request_body(buf, body, true)) return end_gracefully();
    if (head.upgrade) {
      Upgrade verdict;
      {
        std::unique_lock lock(mu_);
        // dead_ and closing_ are set without mu_: a bounded wait cannot miss them for good.
        while (upgrade_ == Upgrade::kAsked && !dead_ && !closing_)
          space_.wait_for(lock, std::chrono::milliseconds(50));
        verdict = upgrade_;
        upgrade_ = Upgrade::kNone;
      }
      if (verdict == Upgrade::kAccepted) {  // WebSocket, h2c or CONNECT: bytes from here on
        raw_copy(client_.get(), upstream_.get(), buf);
        return;
      }
      if (verdict != Upgrade::kDeclined) return;  // the connection is ending
      // Declined: still HTTP/1, the next request is read like any other.
    }
    if (!head.keep_alive) return;
  }
  // The client is done sending (or the drain found the connection idle): no more requests.
  ::shutdown(upstream_.get(), SHUT_WR);
}

bool HttpConnection::read_upstream(std::string& ubuf) {
  return !dead_ && read_some(upstream_.get(), ubuf);
}

// One response from the server to the client, up to where it ends; false when the connection
// ends with it.
bool HttpConnection::serve_upstream_response(const Pending& p, std::string& ubuf) {
  for (;;) {
    http::ResponseHead head;
    http::ParseOutcome out;
    size_t scanned = 0;
    for (;;) {
      if (!ubuf.empty()) out = http::parse_response_head(ubuf, head, http::kMaxHead, scanned);
      if (!ubuf.empty() && out.state == http::Parse::kDone) break;
      if (!ubuf.empty() && out.state == http::Parse::kError) {
        stats_.upstream_errors++;
        raw_copy(upstream_.get(), client_.get(), ubuf);
        return false;
      }
      scanned = ubuf.empty() ? 0 : out.head_bytes;
      if (!read_upstream(ubuf)) return false;
    }
    const size_t hb = out.head_bytes;
    if (head.status >= 100 && head.status < 200 && head.status != 101) {  // interim: 100, 103
      if (!write_all(client_.get(), std::string_view(ubuf).substr(0, hb))) return false;
      ubuf.erase(0, hb);
      continue;
    }
    if (head.status == 101 || (p.method == "CONNECT" && head.status / 100 == 2)) {
      if (p.upgrade) tell_upgrade(Upgrade::kAccepted);
      raw_copy(upstream_.get(), client_.get(), ubuf);
      return false;
    }
    // Any other final answer to an upgrade request turns it down: HTTP/1 goes on.
    if (p.upgrade) tell_upgrade(Upgrade::kDeclined);
    uint64_t length = 0;
    http::Framing framing = http::response_framing(head, p.method, &length);
    http::BodyScanner body(framing, length);
    // Once the fault is being reverted, each response is its connection's last, and says so:
    // the client's next request goes on a new connection, direct.
    const bool draining = drain_.started();
    const bool close =
        p.close_after || !head.keep_alive || framing == http::Framing::kUntilClose || draining;
    // What the client gets: the server's head and body; or, replaced, the rule's status and
    // fields with the server's body, or with the rule's body (the server's is read and
    // dropped). No body at all where the request or the final status allows none (HEAD, 204,
    // 304), whatever the rule says.
    const auto* rule = p.replace ? &p.replace->rule : nullptr;
    const int status = rule && rule->status() ? static_cast<int>(rule->status()) : head.status;
    const bool bodyless = framing == http::Framing::kNone || status == 204 || status == 304;
    const bool own_body = rule && (rule->has_body() || bodyless);
    static const std::string kEmpty;
    const std::string* body_text =
        own_body ? (rule->has_body() ? &rule->body() : &kEmpty) : nullptr;
    std::string head_text = rule       ? replaced_head(*rule, head, body_text)
                            : draining ? closing_head(head)
                                       : ubuf.substr(0, hb);
    ubuf.erase(0, hb);
    if (!write_all(client_.get(), head_text)) return false;
    if (own_body && !bodyless && !write_all(client_.get(), *body_text)) return false;
    while (!body.done()) {
      if (ubuf.empty() && !read_upstream(ubuf)) return false;  // until-close ends here too
      size_t n = body.feed(ubuf);
      if (body.failed()) return false;
      if (!own_body && !write_all(client_.get(), std::string_view(ubuf).substr(0, n))) return false;
      ubuf.erase(0, n);
    }
    return !close;
  }
}

void HttpConnection::tell_upgrade(Upgrade verdict) {
  {
    std::lock_guard lock(mu_);
    upgrade_ = verdict;
  }
  space_.notify_all();
}

void HttpConnection::response_side() {
  std::string ubuf;
  for (;;) {
    Pending p;
    bool have = false, done = false;
    {
      std::lock_guard lock(mu_);
      if (!fifo_.empty()) {
        p = fifo_.front();
        have = true;
      } else {
        done = requests_done_;
      }
    }
    if (dead_ || (done && !have)) break;
    if (!have) {
      pollfd fds[2] = {{upstream_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
      if (fds[1].revents & POLLIN) {
        uint64_t n;
        [[maybe_unused]] ssize_t r = ::read(wake_.get(), &n, sizeof n);
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        std::lock_guard lock(mu_);
        if (!fifo_.empty()) continue;  // a request went out meanwhile: this is its answer
      } else {
        continue;
      }
      // The server spoke with no request outstanding: a close of an idle connection, or bytes
      // we cannot place (passed on as they are).
      if (!read_upstream(ubuf)) break;
      if (!write_all(client_.get(), ubuf)) break;
      ubuf.clear();
      continue;
    }
    bool keep = true;
    switch (p.kind) {
      case Pending::kAnswer:
        keep = write_all(client_.get(), *p.answer) && !p.close_after;
        break;
      case Pending::kReset:
        reset_both();
        keep = false;
        break;
      case Pending::kRaw:
        raw_copy(upstream_.get(), client_.get(), ubuf);
        keep = false;
        break;
      case Pending::kUpstream:
        keep = serve_upstream_response(p, ubuf);
        break;
    }
    {
      std::lock_guard lock(mu_);
      fifo_.pop_front();
    }
    space_.notify_one();
    if (!keep) break;
  }
  if (dead_) return;  // a reset: the sockets close with RST when run() ends
  // The end of the connection, from this side: the client reads to here, then a FIN. What it
  // still sends is read and dropped for a moment (the request side does), because closing a
  // socket with unread bytes sends RST, which can destroy the last answer before it is read.
  closing_ = true;
  space_.notify_all();
  ::shutdown(client_.get(), SHUT_WR);
  ::shutdown(upstream_.get(), SHUT_RDWR);
  pollfd p{client_.get(), POLLIN, 0};
  char discard[4096];
  for (int budget = 64; budget > 0 && ::poll(&p, 1, 200) > 0; --budget)
    if (::recv(client_.get(), discard, sizeof discard, 0) <= 0) break;
}

}  // namespace faultline::injector::intercept
