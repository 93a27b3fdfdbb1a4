#include "proxy/request_watcher.h"

#include <algorithm>

namespace faultline::proxy {

namespace {

constexpr std::string_view kVersionPrefix = "HTTP/1.";

bool has_http_abort(const ToxicSet::Snapshot& toxics) {
  return std::any_of(toxics->begin(), toxics->end(),
                     [](const ToxicEntry& e) { return e.http_abort != nullptr; });
}

bool token_char(char c) {
  return http::valid_field_name(std::string_view(&c, 1));
}

bool target_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

}  // namespace

void RequestWatcher::check_line(std::string_view bytes) {
  for (char c : bytes) {
    switch (line_) {
      case Line::kLead:  // empty lines may come first (RFC 9112 2.2)
        line_ = c == '\r' || c == '\n' ? Line::kLead : token_char(c) ? Line::kMethod : Line::kBad;
        break;
      case Line::kMethod:
        line_ = c == ' ' ? Line::kTargetStart : token_char(c) ? Line::kMethod : Line::kBad;
        break;
      case Line::kTargetStart:
        line_ = target_char(c) ? Line::kTarget : Line::kBad;
        break;
      case Line::kTarget:
        if (c == ' ') {
          line_ = Line::kVersion;
          version_at_ = 0;
        } else if (!target_char(c)) {
          line_ = Line::kBad;
        }
        break;
      case Line::kVersion:
        if (version_at_ < kVersionPrefix.size())
          line_ = c == kVersionPrefix[version_at_++] ? Line::kVersion : Line::kBad;
        else
          line_ = c >= '0' && c <= '9' ? Line::kEol : Line::kBad;
        break;
      case Line::kEol:
        line_ = c == '\r' || c == '\n' ? Line::kOk : Line::kBad;
        break;
      case Line::kOk:  // the rest of the head is the parser's to judge
      case Line::kBad:
        return;
    }
  }
}

void RequestWatcher::next_head() {
  state_ = State::kHead;
  head_.clear();
  forwarded_ = 0;
  scanned_ = 0;
  line_ = Line::kLead;
}

bool RequestWatcher::judge(const ToxicSet::Snapshot& toxics, Step& out) {
  for (const auto& e : *toxics) {
    if (!e.http_abort) continue;
    e.counts->requests.fetch_add(1, std::memory_order_relaxed);
    if (!e.http_abort->matches(parsed_)) continue;
    if (e.toxic.toxicity < 1.0 &&
        std::uniform_real_distribution<double>(0, 1)(rng_) >= e.toxic.toxicity)
      continue;
    e.counts->aborted.fetch_add(1, std::memory_order_relaxed);
    // The answer ends the connection, so this counts each connection once.
    e.counts->connections.fetch_add(1, std::memory_order_relaxed);
    out.abort = true;
    out.response = e.http_abort->response(parsed_.method == "HEAD");
    return true;
  }
  return false;
}

RequestWatcher::Step RequestWatcher::feed(std::string_view data, const ToxicSet::Snapshot& toxics) {
  Step out;
  const bool rules = has_http_abort(toxics);
  size_t pos = 0;
  for (;;) {
    switch (state_) {
      case State::kAborted:  // what the client sends after an answered request is dropped
        return out;
      case State::kPassThrough:
        out.forward.append(data.substr(pos));
        return out;
      case State::kBody: {
        if (pos == data.size()) return out;
        size_t n = body_->feed(data.substr(pos));
        out.forward.append(data.substr(pos, n));
        pos += n;
        if (body_->failed())
          state_ = State::kPassThrough;  // the framing is lost: the server judges the rest
        else if (body_->done())
          next_head();
        continue;
      }
      case State::kHead:
        break;
    }
    // The head so far is in head_ when it began in an earlier read, else all in `data`.
    const std::string_view rest = data.substr(pos);
    const bool spanned = !head_.empty();
    const size_t before = head_.size();
    if (spanned) head_.append(rest);
    const std::string_view buf = spanned ? std::string_view(head_) : rest;
    if (buf.empty()) return out;
    http::ParseOutcome o = http::parse_request_head(buf, parsed_, http::kMaxHead, scanned_);
    if (o.state == http::Parse::kNeedMore) {
      check_line(rest);
      if (line_ == Line::kBad) o.state = http::Parse::kError;
    }
    if (o.state == http::Parse::kError) {  // not HTTP/1.x, or not HTTP we can follow
      out.forward.append(buf.substr(forwarded_));
      head_.clear();
      state_ = State::kPassThrough;
      return out;
    }
    if (o.state == http::Parse::kNeedMore) {
      if (!spanned) head_.assign(rest);
      scanned_ = o.head_bytes;
      if (!rules || forwarded_ > 0) {  // nothing to hold it for: it goes on, still followed
        out.forward.append(std::string_view(head_).substr(forwarded_));
        forwarded_ = head_.size();
      }
      return out;
    }
    // A complete head. Only one of which nothing was sent yet can still be answered here.
    const size_t head_bytes = o.head_bytes;
    if (forwarded_ == 0 && rules && judge(toxics, out)) {
      head_.clear();
      state_ = State::kAborted;
      return out;
    }
    out.forward.append(buf.substr(forwarded_, head_bytes - forwarded_));
    pos += spanned ? std::max(head_bytes, before) - before : head_bytes;
    next_head();
    if (parsed_.upgrade) {  // what follows may be another protocol (CONNECT, WebSocket)
      state_ = State::kPassThrough;
      continue;
    }
    body_.emplace(parsed_.body, parsed_.content_length);
    if (!body_->done()) state_ = State::kBody;
  }
}

std::string RequestWatcher::finish() {
  std::string out;
  if (holding()) out = head_.substr(forwarded_);
  head_.clear();
  forwarded_ = 0;
  state_ = State::kPassThrough;
  return out;
}

}  // namespace faultline::proxy
