// One intercepted client connection and its own upstream connection (to the client's original
// destination). The request side (the calling thread) parses each request head, asks the rules
// what to do and forwards, holds, answers or resets; the response side (a second thread)
// writes answers back in request order: the server's responses, read up to where each ends,
// and the interceptor's own answers in their slots. Pipelined requests keep their order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

#include "common/unique_fd.h"
#include "injector/intercept/http_rules.h"

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
  HttpConnection(UniqueFd client, UniqueFd upstream, const HttpRules& rules, InterceptStats& stats,
                 Drain& drain);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Serves the connection to its end; both sockets are closed when it returns.
  void run();
  // Ends it now (drain deadline): both sockets are shut down, so blocked reads return.
  void kill();
  bool finished() const { return finished_.load(); }

 private:
  struct Pending {
    enum Kind { kUpstream, kAnswer, kRaw } kind = kUpstream;
    std::string answer;        // kAnswer: the bytes to write
    bool close_after = false;  // the connection ends after this response
    std::string method;        // kUpstream: the request's method (response framing)
    const CompiledRule* replace = nullptr;
  };

  void request_side();
  void response_side();
  void push(Pending p);
  bool forward_upstream(std::string_view bytes);
  bool forward_request_body(std::string& buf, http::BodyScanner& body, bool send);
  bool read_client(std::string& buf);
  void raw_copy(int from, int to, std::string& pending);
  bool serve_upstream_response(const Pending& p, std::string& ubuf);
  bool read_upstream(std::string& ubuf);
  void reset_both();

  UniqueFd client_, upstream_, wake_;  // wake_: eventfd, a Pending was pushed or the end came
  const HttpRules& rules_;
  InterceptStats& stats_;
  Drain& drain_;
  std::mutex fd_mu_;  // kill() against run() closing the sockets
  std::mutex mu_;
  std::deque<Pending> fifo_;
  bool requests_done_ = false;  // no more Pending will be pushed
  std::atomic<bool> dead_{false}, finished_{false};
  bool first_request_ = true;
};

}  // namespace faultline::injector::intercept
