// http_abort, Faultline's HTTP-aware toxic (Toxiproxy's issue #50): a request that matches
// (method, path) is not sent to the server; the client gets `status` and `body` instead, once
// the server has answered the requests before it. This file holds the toxic's compiled rule
// and the hand-off between the two pumps of one connection; request_watcher.h finds the
// requests in the client's bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/http/http_message.h"
#include "common/http/request_match.h"
#include "common/result.h"
#include "proxy/toxic.h"

namespace faultline::proxy {

// How long the answer waits for the server to close after the half-close: a server that keeps
// the connection open must not hold the client forever.
inline constexpr int64_t kAbortGraceNs = 5'000'000'000;
// After the grace, the server must have been quiet this long for its answers to count as
// complete; one still sending this long after the half-close is cut off without the answer.
inline constexpr int64_t kAbortQuietNs = 1'000'000'000;
inline constexpr int64_t kAbortGiveUpNs = 30'000'000'000;
// How long the answer's close waits for the client to close first (a lingering close).
inline constexpr int64_t kAbortLingerNs = 2'000'000'000;

// An http_abort toxic's attributes, checked and compiled once per create or update (the pumps
// use it for every request, so nothing is parsed on the data path).
class HttpAbortRule {
 public:
  // Errors name the attribute ("bad request body: attributes.path: ..."), for the API's 400.
  static Result<HttpAbortRule> make(const Toxic& t);

  bool matches(const http::RequestHead& head) const { return matcher_.matches(head); }
  // `HTTP/1.1 <status> <reason>`, Content-Length, `Connection: close`, then the body; the
  // head alone for a HEAD request (its answer never has a body).
  std::string response(bool head_request) const;

 private:
  HttpAbortRule(http::RequestMatcher matcher, std::string response, size_t head_size)
      : matcher_(std::move(matcher)), response_(std::move(response)), head_size_(head_size) {}

  http::RequestMatcher matcher_;
  std::string response_;
  size_t head_size_;
};

// Where the two pumps of one connection meet when http_abort answers a request. Only the
// client->server pump sees requests and only the server->client pump writes to the client,
// so the first arms this and half-closes the server once the requests before the matching
// one are sent; the second sends the answer after what the server still sends, when the
// server closes (or kAbortGraceNs after the half-close). Lock-free: one writer each side.
class AbortHandOff {
 public:
  // The client->server pump, once: later calls change nothing.
  void arm(std::string response);
  void server_half_closed(int64_t now_ns);

  bool armed() const { return armed_.load(std::memory_order_acquire); }
  // Only once armed() said true (written before the flag, never after).
  const std::string& response() const { return response_; }
  // The server was half-closed more than kAbortGraceNs ago and has not closed.
  bool overdue(int64_t now_ns) const;
  bool overdue_by(int64_t now_ns, int64_t limit_ns) const;
  // The client->server pump saw the client close (or fail) after the abort.
  void client_closed_now() { client_closed_.store(true, std::memory_order_release); }
  bool client_closed() const { return client_closed_.load(std::memory_order_acquire); }

 private:
  std::string response_;
  std::atomic<bool> armed_{false};
  std::atomic<int64_t> half_closed_ns_{-1};
  std::atomic<bool> client_closed_{false};
};

}  // namespace faultline::proxy
