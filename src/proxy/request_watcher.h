// The client->server side of http_abort: follows the HTTP/1.x requests of one connection as
// its bytes pass (heads parsed with common/http, bodies skipped with its BodyScanner, so a
// body that looks like a request is never taken for one) and holds each complete head to the
// http_abort toxics present at that moment. It always follows, toxic or not: a toxic added
// later must still find where the next request starts. A connection whose first bytes are not
// an HTTP/1.x request line, or that the parser cannot follow (a malformed head, a body framing
// error, an upgrade), is passed through untouched from then on.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "common/http/http_message.h"
#include "proxy/toxic_set.h"

namespace faultline::proxy {

class RequestWatcher {
 public:
  explicit RequestWatcher(uint64_t seed) : rng_(seed) {}

  struct Step {
    std::string forward;   // bytes for the server now, in order
    bool abort = false;    // a request is answered by http_abort: nothing after `forward` goes
    std::string response;  // with abort: what the client gets
  };

  // `data`: the next bytes from the client; empty to re-check what is held against `toxics`.
  // While an http_abort toxic is present, an incomplete head is held back (it may match once
  // complete); without one it goes on at once. Toxicity is drawn per matching request.
  Step feed(std::string_view data, const ToxicSet::Snapshot& toxics);
  // The client closed: what was held goes on (a head that never completed cannot match).
  std::string finish();
  // Part of a head is held back, waiting for the rest of it or for the toxic to go.
  bool holding() const { return state_ == State::kHead && forwarded_ < head_.size(); }

 private:
  enum class State { kHead, kBody, kPassThrough, kAborted };
  // The start of a request line, checked byte by byte as it arrives (each byte once), so that
  // another protocol is let go at its first bytes instead of waiting for a blank line.
  enum class Line { kLead, kMethod, kTargetStart, kTarget, kVersion, kEol, kOk, kBad };

  void check_line(std::string_view bytes);
  // A complete head before any of it was sent: true when an http_abort toxic answers it.
  bool judge(const ToxicSet::Snapshot& toxics, Step& out);
  void next_head();

  State state_ = State::kHead;
  std::string head_;      // the current head's bytes so far, while it is incomplete
  size_t forwarded_ = 0;  // of which already sent on (such a request can no longer be held)
  size_t scanned_ = 0;    // how far the parser's search for the blank line got
  Line line_ = Line::kLead;
  size_t version_at_ = 0;  // kVersion: how much of "HTTP/1." matched
  http::RequestHead parsed_;
  std::optional<http::BodyScanner> body_;
  std::mt19937_64 rng_;
};

}  // namespace faultline::proxy
