#include "common/http/http_message.h"

#include <algorithm>
#include <charconv>

namespace faultline::http {
namespace {

constexpr size_t kMaxChunkLine = 4096;  // size and extensions; nobody needs more

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(c); });
}

// Field content: HTAB, SP, VCHAR and obs-text; never CR, LF, NUL or another control.
bool is_field_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x | 0x20 : x) == (y >= 'A' && y <= 'Z' ? y | 0x20 : y);
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f on each non-empty, trimmed element of a comma-separated list (RFC 9110 5.6.1).
template <typename F>
void for_each_element(std::string_view list, F f) {
  for (;;) {
    const size_t comma = list.find(',');
    if (auto e = trim(list.substr(0, comma)); !e.empty()) f(e);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

// "HTTP/1.x" gives x; anything else -1. HTTP/2 never arrives as a text head.
int http1_minor(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1." || v[7] < '0' || v[7] > '9') return -1;
  return v[7] - '0';
}

constexpr int kMaxEmptyLines = 8;

// Just past the first empty line whose preceding LF is at or after `from`; 0 when none yet.
size_t find_head_end(std::string_view buf, size_t from) {
  for (size_t i = buf.find('\n', from); i != std::string_view::npos; i = buf.find('\n', i + 1)) {
    if (i + 1 < buf.size() && buf[i + 1] == '\n') return i + 2;
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
  }
  return 0;
}

// What the framing and connection fields say, shared by requests and responses.
struct Fields {
  bool has_length = false, has_te = false, chunked = false;  // chunked: the final coding
  uint64_t length = 0;
  bool close = false, keep_alive = false, upgrade = false;  // Connection tokens
};

std::string read_fields(const std::vector<Header>& headers, Fields& f) {
  bool bad_length = false, conflict = false, bad_te = false;
  for (const auto& h : headers) {
    if (iequals(h.name, "content-length")) {
      // A list of identical values is allowed (RFC 9110 8.6); differing ones are smuggling.
      bool any = false;
      for_each_element(h.value, [&](std::string_view e) {
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), n);
        if (e.front() < '0' || e.front() > '9' || ec != std::errc() || end != e.data() + e.size())
          bad_length = true;
        else if (f.has_length && n != f.length)
          conflict = true;
        f.has_length = any = true;
        f.length = n;
      });
      bad_length |= !any;
    } else if (iequals(h.name, "transfer-encoding")) {
      // chunked must be the last coding and come once; on a request it is required.
      bool any = false;
      for_each_element(h.value, [&](std::string_view e) {
        if (f.chunked) bad_te = true;  // something after chunked
        f.chunked = iequals(e, "chunked");
        any = true;
      });
      bad_te |= !any;
      f.has_te = true;
    } else if (iequals(h.name, "connection")) {
      for_each_element(h.value, [&](std::string_view e) {
        f.close |= iequals(e, "close");
        f.keep_alive |= iequals(e, "keep-alive");
        f.upgrade |= iequals(e, "upgrade");
      });
    }
  }
  if (bad_length) return "bad Content-Length";
  if (conflict) return "conflicting Content-Length";
  if (bad_te) return "bad Transfer-Encoding";
  if (f.has_length && f.has_te) return "both Content-Length and Transfer-Encoding";
  return {};
}

ParseOutcome fail(std::string reason) {
  return {Parse::kError, 0, std::move(reason)};
}

// Finds the head in `buf` and splits it into its start line and checked field lines: kDone with
// `start_line` and `headers` set, else kNeedMore or kError.
ParseOutcome split_head(std::string_view buf, size_t max_head, size_t scanned, bool request,
                        std::string_view& start_line, std::vector<Header>& headers) {
  ParseOutcome o;
  size_t start = 0;
  // RFC 9112 2.2: empty lines before a request line are ignored. A few at most: a client that
  // sends thousands, byte by byte, would otherwise make every call rescan them all.
  int empty_lines = 0;
  while (request && start < buf.size() && start < max_head) {
    if (buf[start] == '\n') {
      start += 1;
    } else if (buf[start] == '\r' && start + 1 < buf.size() && buf[start + 1] == '\n') {
      start += 2;
    } else {
      break;
    }
    if (++empty_lines > kMaxEmptyLines) return fail("too many empty lines before the request");
  }
  const std::string_view window = buf.substr(0, max_head);
  const size_t end = find_head_end(window, std::max(start, std::min(scanned, window.size())));
  if (end == 0) {
    if (buf.size() >= max_head) {
      o.state = Parse::kError;
      o.error = "head larger than " + std::to_string(max_head) + " bytes";
    } else {
      o.head_bytes = std::max(start, buf.size() >= 2 ? buf.size() - 2 : 0);
    }
    return o;
  }
  headers.clear();
  std::string_view head = buf.substr(start, end - start);
  for (bool first = true;; first = false) {
    const size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the blank line: `end` guarantees it comes
    if (first) {
      start_line = line;
      continue;
    }
    if (is_ows(line.front())) return fail("obs-fold in header");  // RFC 9112 5.2
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail("bad header line");
    const std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (!name.empty() && is_ows(name.back())) return fail("whitespace before colon");  // 5.1
    if (!is_token(name)) return fail("bad header name");
    if (!std::all_of(value.begin(), value.end(), [](char c) { return is_field_char(c); }))
      return fail("control character in header");
    if (headers.size() == kMaxHeaders) return fail("too many header fields");
    headers.push_back({std::string(name), std::string(value)});
  }
  o.state = Parse::kDone;
  o.head_bytes = end;
  return o;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";  // an empty reason is valid (RFC 9112 4)
  }
}

}  // namespace

std::string_view RequestHead::path() const {
  std::string_view t = target;
  if (!t.empty() && t.front() != '/') {
    if (const size_t scheme = t.find("://"); scheme != std::string_view::npos) {
      t.remove_prefix(scheme + 3);
      const size_t slash = t.find_first_of("/?#");
      if (slash == std::string_view::npos || t[slash] != '/') return "/";
      t.remove_prefix(slash);
    }
  }
  return t.substr(0, t.find_first_of("?#"));
}

const std::string* RequestHead::header(std::string_view name) const {
  return find_header(headers, name);
}

const std::string* ResponseHead::header(std::string_view name) const {
  return find_header(headers, name);
}

ParseOutcome parse_request_head(std::string_view buf, RequestHead& out, size_t max_head,
                                size_t scanned) {
  std::string_view line;
  ParseOutcome o = split_head(buf, max_head, scanned, true, line, out.headers);
  if (o.state != Parse::kDone) return o;

  // method SP request-target SP HTTP-version, single spaces (RFC 9112 3).
  const size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos)
    return fail("bad request line");
  const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                         version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() ||
      !std::all_of(target.begin(), target.end(),
                   [](unsigned char c) { return c > 0x20 && c != 0x7f; }))
    return fail("bad request line");
  const int minor = http1_minor(version);
  if (minor < 0)
    return fail(version.size() == 8 && version.substr(0, 5) == "HTTP/" ? "unsupported HTTP version"
                                                                       : "bad request line");

  Fields f;
  if (std::string e = read_fields(out.headers, f); !e.empty()) return fail(std::move(e));
  if (f.has_te && !f.chunked) return fail("bad Transfer-Encoding");  // no way to find the end
  if (f.has_te && minor == 0) return fail("Transfer-Encoding in HTTP/1.0");  // RFC 9112 6.1
  if (std::count_if(out.headers.begin(), out.headers.end(),
                    [](const Header& h) { return iequals(h.name, "host"); }) > 1)
    return fail("more than one Host");

  out.method = method;
  out.target = target;
  out.version = version;
  out.body = f.chunked ? Framing::kChunked : f.has_length ? Framing::kLength : Framing::kNone;
  out.content_length = f.length;
  out.keep_alive = !f.close && (minor >= 1 || f.keep_alive);
  const std::string* expect = out.header("expect");
  out.expect_continue = expect && iequals(*expect, "100-continue");
  out.upgrade = method == "CONNECT" || (f.upgrade && out.header("upgrade"));
  return o;
}

ParseOutcome parse_response_head(std::string_view buf, ResponseHead& out, size_t max_head,
                                 size_t scanned) {
  std::string_view line;
  ParseOutcome o = split_head(buf, max_head, scanned, false, line, out.headers);
  if (o.state != Parse::kDone) return o;

  // HTTP-version SP 3DIGIT SP [reason]; the last SP is sometimes missing when there is no reason.
  const std::string_view version = line.substr(0, 8);
  const int minor = http1_minor(version);
  if (minor < 0 || line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
    return fail("bad status line");
  int status = 0;
  for (char c : line.substr(9, 3)) {
    if (c < '0' || c > '9') return fail("bad status line");
    status = status * 10 + (c - '0');
  }
  const std::string_view reason = line.size() > 12 ? line.substr(13) : std::string_view();
  if (status < 100 ||
      !std::all_of(reason.begin(), reason.end(), [](char c) { return is_field_char(c); }))
    return fail("bad status line");

  Fields f;
  if (std::string e = read_fields(out.headers, f); !e.empty()) return fail(std::move(e));
  out.version = version;
  out.status = status;
  out.reason = reason;
  // A response whose last coding is not chunked runs until close (RFC 9112 6.3 item 4).
  out.body = f.has_te       ? (f.chunked ? Framing::kChunked : Framing::kUntilClose)
             : f.has_length ? Framing::kLength
                            : Framing::kUntilClose;
  out.content_length = f.length;
  out.keep_alive = !f.close && (minor >= 1 || f.keep_alive);
  return o;
}

Framing response_framing(const ResponseHead& head, std::string_view request_method,
                         uint64_t* length) {
  if (request_method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304 ||
      (request_method == "CONNECT" && head.status / 100 == 2))
    return Framing::kNone;
  if (head.body == Framing::kLength && length) *length = head.content_length;
  return head.body;
}

BodyScanner::BodyScanner(Framing framing, uint64_t length) : remaining_(length) {
  switch (framing) {
    case Framing::kNone:
      state_ = State::kDone;
      break;
    case Framing::kLength:
      state_ = length == 0 ? State::kDone : State::kLength;
      break;
    case Framing::kChunked:
      state_ = State::kSize;
      break;
    case Framing::kUntilClose:
      state_ = State::kUntilClose;
      break;
  }
}

size_t BodyScanner::feed(std::string_view data) {
  size_t i = 0;
  while (i < data.size() && state_ != State::kDone && state_ != State::kFailed) {
    if (state_ == State::kUntilClose) return data.size();
    if (state_ == State::kLength || state_ == State::kData) {
      const uint64_t n = std::min<uint64_t>(remaining_, data.size() - i);
      i += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = state_ == State::kLength ? State::kDone : State::kDataCr;
      continue;
    }
    const char c = data[i];
    State next = State::kFailed;
    switch (state_) {
      case State::kSize:
      case State::kSizeWs:
      case State::kExt: {
        const int hex = c >= '0' && c <= '9'                     ? c - '0'
                        : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                                 : -1;
        if (++line_ > kMaxChunkLine) break;
        if (state_ == State::kSize && hex >= 0) {
          if (remaining_ > (UINT64_MAX >> 4)) break;  // would overflow
          remaining_ = remaining_ * 16 + hex;
          digits_ = true;
          next = State::kSize;
        } else if (c == '\r' && digits_) {
          next = State::kSizeLf;
        } else if (state_ == State::kExt) {
          if (is_field_char(c)) next = State::kExt;
        } else if (c == ';' && digits_) {
          next = State::kExt;
        } else if (is_ows(c) && digits_) {
          next = State::kSizeWs;  // BWS before ';' (RFC 9112 7.1.1)
        }
        break;
      }
      case State::kSizeLf:
        if (c == '\n') next = remaining_ == 0 ? State::kTrailer : State::kData;
        line_ = 0;
        digits_ = false;
        break;
      case State::kDataCr:
        if (c == '\r') next = State::kDataLf;
        break;
      case State::kDataLf:
        if (c == '\n') next = State::kSize;
        break;
      case State::kTrailer:
        if (++trailers_ > kMaxHead) break;
        if (c == '\r') {
          next = State::kTrailerLf;
        } else if (is_field_char(c)) {
          ++line_;
          next = State::kTrailer;
        }
        break;
      case State::kTrailerLf:
        if (c == '\n') next = line_ == 0 ? State::kDone : State::kTrailer;
        line_ = 0;
        break;
      default:
        break;
    }
    state_ = next;
    if (next == State::kFailed) return i;  // the offending byte is not the body's
    ++i;
  }
  return i;
}

bool valid_field_name(std::string_view name) {
  return is_token(name);
}

bool valid_field_value(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return is_field_char(c); });
}

std::string serialize_response(int status, std::string_view reason,
                               const std::vector<Header>& headers, std::string_view body,
                               bool close) {
  const bool bodiless = status < 200 || status == 204 || status == 304;
  std::string out = "HTTP/1.1 " + std::to_string(status) + ' ';
  out += reason.empty() || !valid_field_value(reason) ? reason_phrase(status) : reason;
  out += "\r\n";
  for (const auto& h : headers) {
    if (iequals(h.name, "content-length") || iequals(h.name, "transfer-encoding") ||
        (close && iequals(h.name, "connection")) || !valid_field_name(h.name) ||
        !valid_field_value(h.value))
      continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (close) out += "Connection: close\r\n";
  if (!bodiless) out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out += "\r\n";
  if (!bodiless) out += body;
  return out;
}

}  // namespace faultline::http
