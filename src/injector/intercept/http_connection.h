// One intercepted client connection and its own upstream connection (to the client's original
// destination). The request side (the calling thread) parses each request head, asks the rules
// what to do and forwards, holds, answers or resets; the response side (a second thread)
// writes answers back in request order: the server's responses, read up to where each ends,
// and the interceptor's own answers in their slots. Pipelined requests keep their order.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "common/unique_fd.h"
#include "injector/intercept/http_rules.h"
#include "injector/intercept/tls_relay.h"

namespace faultline::injector::intercept {

// Set once on revert: rules stop applying, held requests go on at once, and each connection
// closes as soon as it has no request in flight.
class Drain {
 public:
  void start();
  bool started() const { return started_.load(); }
  // Sleeps for `us` or until the drain starts.
  void sleep_for_us(uint64_t us);

 private:
  std::atomic<bool> started_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

class HttpConnection {
 public:
  // Requests answered or in flight on one connection, at most: a client pipelining requests
  // it never reads answers to is held back by TCP, not by the interceptor's memory.
  static constexpr size_t kMaxPending = 64;

  // `tls`: when set, a connection that starts with a TLS handshake is terminated with it and
  // served over the plaintext ends of two relays (tls_relay.h).
  HttpConnection(UniqueFd client, const sockaddr_storage& destination, socklen_t length,
                 uint32_t mark, const HttpRules& rules, InterceptStats& stats, Drain& drain,
                 const TlsTerminator* tls = nullptr);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Dials the destination, then serves the connection to its end; both sockets are closed
  // when it returns.
  void run();
  // Ends it now (drain deadline): both sockets are shut down, so blocked reads return.
  void kill();
  bool finished() const { return finished_.load(); }

 private:
  struct Pending {
    enum Kind { kUpstream, kAnswer, kRaw, kReset } kind = kUpstream;
    const std::string* answer = nullptr;  // kAnswer: the bytes to write (owned by the rules)
    bool close_after = false;             // the connection ends after this response
    std::string method;                   // kUpstream: the request's method (response framing)
    const CompiledRule* replace = nullptr;
    bool upgrade = false;  // kUpstream: the request asks to leave HTTP/1 (Upgrade, CONNECT)
  };
  // What the server made of the last upgrade request: the request side waits for it, since
  // after a 101 (or CONNECT's 2xx) the bytes are no longer HTTP, and after anything else
  // (curl --http2 asks every server for h2c; HTTP/1-only servers answer 200) they still are.
  enum class Upgrade { kNone, kAsked, kAccepted, kDeclined };
  void tell_upgrade(Upgrade verdict);

  bool dial();
  // After dial(): if the client speaks TLS, both sides are swapped for relays' plaintext ends.
  // False when a handshake failed (the connection ends).
  bool terminate_tls();
  void request_side();
  void response_side();
  bool push(Pending p);
  bool forward_upstream(std::string_view bytes);
  bool forward_request_body(std::string& buf, http::BodyScanner& body, bool send);
  bool read_client(std::string& buf);
  void raw_copy(int from, int to, std::string& pending);
  bool serve_upstream_response(const Pending& p, std::string& ubuf);
  bool read_upstream(std::string& ubuf);
  void reset_both();
  void end_gracefully();

  UniqueFd client_, upstream_, wake_;  // wake_: eventfd, a Pending was pushed or the end came
  sockaddr_storage destination_;
  socklen_t destination_len_;
  uint32_t mark_;
  const HttpRules& rules_;
  const TlsTerminator* tls_;
  std::unique_ptr<TlsRelay> client_tls_, upstream_tls_;  // joined after the sockets close
  InterceptStats& stats_;
  Drain& drain_;
  std::mutex fd_mu_;  // kill() against run() closing the sockets
  std::mutex mu_;
  std::condition_variable space_;  // the FIFO has room again, or the connection is ending
  std::deque<Pending> fifo_;
  bool requests_done_ = false;        // no more Pending will be pushed
  Upgrade upgrade_ = Upgrade::kNone;  // under mu_; changes are told through space_
  // dead_: reset or killed, stop at once. closing_: the response side ended the connection
  // (it sent its FIN); the request side reads and drops what is still coming, briefly, so
  // that closing does not turn into a reset that destroys the last answer on its way.
  std::atomic<bool> dead_{false}, closing_{false}, finished_{false};
  bool first_request_ = true;
};

}  // namespace faultline::injector::intercept
