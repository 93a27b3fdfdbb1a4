// HTTP/1.1 message heads and body framing for the interceptors that sit between clients and
// servers (http_fault's helper, the proxy's HTTP toxics). The input is untrusted: every parse is
// bounded, linear in its input and never throws. Shapes on which two parsers could disagree about
// where a message ends (request smuggling) are refused rather than guessed at, because the
// interceptor and the server behind it must cut the byte stream at the same places.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::http {

inline constexpr size_t kMaxHead = 65536;
inline constexpr size_t kMaxHeaders = 256;  // a head of tiny fields would otherwise cost ~25x

struct Header {
  std::string name, value;
};

// How a body ends. A request body is never kUntilClose (RFC 9112 6.3: no framing means none).
enum class Framing { kNone, kLength, kChunked, kUntilClose };

struct RequestHead {
  using Body = Framing;

  std::string method, target, version;
  std::vector<Header> headers;
  Body body = Body::kNone;
  uint64_t content_length = 0;  // with kLength (0 is kLength too: the header was there)
  bool keep_alive = true;       // 1.1 unless `Connection: close`; 1.0 only with keep-alive
  bool expect_continue = false;
  bool upgrade = false;  // Upgrade with `Connection: upgrade`, or CONNECT: bytes go raw after

  // The target up to '?' or '#'; for an absolute-form target (a client talking to a proxy) the
  // path after the authority. Raw: not percent-decoded, not normalized.
  std::string_view path() const;
  // The first field with that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

struct ResponseHead {
  std::string version, reason;
  int status = 0;
  std::vector<Header> headers;
  Framing body = Framing::kUntilClose;  // from the fields alone; see response_framing()
  uint64_t content_length = 0;
  bool keep_alive = true;  // from the version and Connection only

  const std::string* header(std::string_view name) const;
};

enum class Parse { kNeedMore, kDone, kError };

struct ParseOutcome {
  Parse state = Parse::kNeedMore;
  // kDone: bytes of the head, blank line included (the body or next message starts there).
  // kNeedMore: how far the search for the blank line got; pass it back as `scanned` with the
  // same buffer plus more bytes, so a head trickling in by single bytes stays linear overall.
  size_t head_bytes = 0;
  std::string error;  // kError: a short reason for a log line or a 400 body
};

// Lines may end in CRLF or a bare LF. Empty lines before a request line are skipped (RFC 9112
// 2.2) and counted in head_bytes. `out` is only meaningful on kDone.
ParseOutcome parse_request_head(std::string_view buf, RequestHead& out, size_t max_head = kMaxHead,
                                size_t scanned = 0);
ParseOutcome parse_response_head(std::string_view buf, ResponseHead& out,
                                 size_t max_head = kMaxHead, size_t scanned = 0);

// The framing of a response to a request with that method: none for HEAD, 1xx, 204, 304 and a
// 2xx to CONNECT, else what the fields say. `length` gets the length for kLength.
Framing response_framing(const ResponseHead& head, std::string_view request_method,
                         uint64_t* length);

// Finds where a body ends in bytes fed as they arrive, so that what follows is the next message.
// Chunked bodies are checked strictly (CRLF only, hex sizes bounded, lines bounded): a peer that
// strays fails the scanner, and the connection should then be closed, not forwarded.
class BodyScanner {
 public:
  explicit BodyScanner(Framing framing, uint64_t length = 0);

  // How many leading bytes of `data` belong to the body; stops exactly at its end.
  size_t feed(std::string_view data);
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }

 private:
  enum class State {
    kLength,      // counting down `remaining_`
    kUntilClose,  // never done
    kSize,        // hex digits of a chunk size
    kSizeWs,      // whitespace after the size, before ';' or CR
    kExt,         // chunk extension, ignored
    kSizeLf,      // CR seen at the end of a size line
    kData,        // chunk data, `remaining_` to go
    kDataCr,
    kDataLf,
    kTrailer,    // within a trailer line (or at the start of one when line_ == 0)
    kTrailerLf,  // CR seen in the trailer section
    kDone,
    kFailed,
  };

  State state_;
  uint64_t remaining_ = 0;
  size_t line_ = 0;      // bytes of the current size or trailer line
  size_t trailers_ = 0;  // bytes of the trailer section
  bool digits_ = false;  // a size line has at least one hex digit
};

// Whether a field name is a token, and a field value has no control characters (CR, LF, NUL):
// for checking configured headers before they are written into a message.
bool valid_field_name(std::string_view name);
bool valid_field_value(std::string_view value);

// A complete HTTP/1.1 response. Content-Length is computed (none, and no body, for 1xx, 204 and
// 304); given Content-Length and Transfer-Encoding fields are dropped, and so are invalid ones,
// so that a bad value cannot split the response. An empty reason gets the standard phrase.
// `close` adds `Connection: close` in place of any given Connection field.
std::string serialize_response(int status, std::string_view reason,
                               const std::vector<Header>& headers, std::string_view body,
                               bool close);

}  // namespace faultline::http
