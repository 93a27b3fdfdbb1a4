#include "common/http/http_message.h"

#include <string>

#include <gtest/gtest.h>

namespace faultline::http {
namespace {

using namespace std::string_view_literals;

RequestHead request(std::string_view text) {
  RequestHead head;
  const ParseOutcome o = parse_request_head(text, head);
  EXPECT_EQ(o.state, Parse::kDone) << text << ": " << o.error;
  return head;
}

std::string request_error(std::string_view text) {
  RequestHead head;
  const ParseOutcome o = parse_request_head(text, head);
  EXPECT_EQ(o.state, Parse::kError) << text;
  return o.error;
}

ResponseHead response(std::string_view text) {
  ResponseHead head;
  const ParseOutcome o = parse_response_head(text, head);
  EXPECT_EQ(o.state, Parse::kDone) << text << ": " << o.error;
  return head;
}

// Feeds `body` to a fresh scanner in two pieces cut at `split`, then one byte at a time for a
// third pass; returns the bytes the scanner took, checking the passes agree.
size_t scan(Framing framing, uint64_t length, std::string_view data, size_t split) {
  BodyScanner two(framing, length);
  size_t taken = two.feed(data.substr(0, split));
  if (taken == split) taken += two.feed(data.substr(split));
  BodyScanner ones(framing, length);
  size_t one_by_one = 0;
  for (size_t i = 0; i < data.size() && !ones.done() && !ones.failed(); ++i)
    one_by_one += ones.feed(data.substr(i, 1));
  EXPECT_EQ(taken, one_by_one) << "split at " << split;
  EXPECT_EQ(two.done(), ones.done());
  EXPECT_EQ(two.failed(), ones.failed());
  return two.done() ? taken : std::string_view::npos;
}

TEST(HttpMessage, ParsesPipelinedRequestsOneAfterAnother) {
  const std::string buf =
      "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "\r\n"  // a stray CRLF after a body, as old clients send: skipped
      "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "DELETE /d HTTP/1.0\r\n\r\n";
  std::string_view rest = buf;
  std::vector<std::string> seen;
  while (!rest.empty()) {
    RequestHead head;
    const ParseOutcome o = parse_request_head(rest, head);
    ASSERT_EQ(o.state, Parse::kDone) << o.error;
    rest.remove_prefix(o.head_bytes);
    BodyScanner body(head.body, head.content_length);
    rest.remove_prefix(body.feed(rest));
    ASSERT_TRUE(body.done());
    seen.push_back(head.method + " " + std::string(head.path()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"GET /a", "POST /b", "PUT /c", "DELETE /d"}));
}

TEST(HttpMessage, HeadSplitAtEveryOffset) {
  const std::string text =
      "POST /v1/charge?id=7 HTTP/1.1\r\nHost: api\r\nX-Tenant:  acme \r\n"
      "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n{}";
  const size_t head_size = text.size() - 2;
  for (size_t k = 0; k < head_size; ++k) {
    RequestHead head;
    const ParseOutcome o = parse_request_head(std::string_view(text).substr(0, k), head);
    ASSERT_EQ(o.state, Parse::kNeedMore) << k;
    ASSERT_LE(o.head_bytes, k);
  }
  // Byte by byte, resuming where the last call left off.
  RequestHead head;
  ParseOutcome o;
  for (size_t k = 1; k <= text.size() && o.state == Parse::kNeedMore; ++k)
    o = parse_request_head(std::string_view(text).substr(0, k), head, kMaxHead, o.head_bytes);
  ASSERT_EQ(o.state, Parse::kDone) << o.error;
  EXPECT_EQ(o.head_bytes, head_size);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.target, "/v1/charge?id=7");
  EXPECT_EQ(head.path(), "/v1/charge");
  EXPECT_EQ(head.version, "HTTP/1.1");
  ASSERT_EQ(head.headers.size(), 4u);
  EXPECT_EQ(head.headers[1].name, "X-Tenant");
  EXPECT_EQ(head.headers[1].value, "acme");
  ASSERT_NE(head.header("x-TENANT"), nullptr);
  EXPECT_EQ(*head.header("x-tenant"), "acme");
  EXPECT_EQ(head.header("cookie"), nullptr);
  EXPECT_EQ(head.body, RequestHead::Body::kLength);
  EXPECT_EQ(head.content_length, 2u);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_TRUE(head.expect_continue);
  EXPECT_FALSE(head.upgrade);
}

TEST(HttpMessage, AcceptsBareLineFeeds) {
  RequestHead head;
  const std::string text = "GET / HTTP/1.1\nHost: h\n\nnext";
  const ParseOutcome o = parse_request_head(text, head);
  ASSERT_EQ(o.state, Parse::kDone) << o.error;
  EXPECT_EQ(o.head_bytes, text.size() - 4);
  EXPECT_EQ(*head.header("host"), "h");
}

TEST(HttpMessage, HeadOverTheLimit) {
  const std::string endless = "GET /" + std::string(70000, 'a');
  EXPECT_EQ(request_error(endless), "head larger than 65536 bytes");
  RequestHead head;
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(40, 'b') + "\r\n\r\n";
  EXPECT_EQ(parse_request_head(text.substr(0, 30), head, 64).state, Parse::kNeedMore);
  EXPECT_EQ(parse_request_head(text, head, 64).error, "head larger than 64 bytes");
  EXPECT_EQ(parse_request_head(text, head, text.size()).state, Parse::kDone);
  // A head exactly at the limit with the next message behind it is fine.
  EXPECT_EQ(parse_request_head(text + "GET", head, text.size()).head_bytes, text.size());
  // Nor can endless empty lines before a request line get round it, or cost a rescan of
  // thousands of them on every call: a few are skipped (RFC 9112 2.2), more are an error.
  EXPECT_EQ(request_error(std::string(70000, '\n')), "too many empty lines before the request");
  EXPECT_EQ(request_error(std::string(9, '\n')), "too many empty lines before the request");
  RequestHead skipped;
  EXPECT_EQ(parse_request_head("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", skipped).state,
            Parse::kDone);

  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i <= kMaxHeaders; ++i) many += "a: b\r\n";
  EXPECT_EQ(request_error(many + "\r\n"), "too many header fields");
}

TEST(HttpMessage, RefusesSmugglingShapes) {
  const struct {
    const char* fields;
    const char* error;
  } cases[] = {
      {"Content-Length: 5\r\nContent-Length: 6\r\n", "conflicting Content-Length"},
      {"Content-Length: 5, 6\r\n", "conflicting Content-Length"},
      {"Content-Length: +5\r\n", "bad Content-Length"},
      {"Content-Length: -1\r\n", "bad Content-Length"},
      {"Content-Length: 5x\r\n", "bad Content-Length"},
      {"Content-Length:\r\n", "bad Content-Length"},
      {"Content-Length: 99999999999999999999\r\n", "bad Content-Length"},
      {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
       "both Content-Length and Transfer-Encoding"},
      {"Transfer-Encoding: chunked, gzip\r\n", "bad Transfer-Encoding"},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", "bad Transfer-Encoding"},
      {"Transfer-Encoding: chunked, chunked\r\n", "bad Transfer-Encoding"},
      {"Transfer-Encoding: xchunked\r\n", "bad Transfer-Encoding"},
      {"Transfer-Encoding: chunked;q=1\r\n", "bad Transfer-Encoding"},
      {"Transfer-Encoding: \x0b"
       "chunked\r\n",
       "control character in header"},
      {"X: a\r\n  folded\r\n", "obs-fold in header"},
      {"Transfer-Encoding : chunked\r\n", "whitespace before colon"},
      {"X: a\rb\r\n", "control character in header"},
      {"X\x7f: a\r\n", "bad header name"},
      {": a\r\n", "bad header name"},
      {"no colon\r\n", "bad header line"},
      {"Host: a\r\nHost: b\r\n", "more than one Host"},
  };
  for (const auto& c : cases) {
    const std::string text = std::string("POST / HTTP/1.1\r\n") + c.fields + "\r\n";
    EXPECT_EQ(request_error(text), c.error) << c.fields;
  }
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"sv), "control character in header");
  EXPECT_EQ(request_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "Transfer-Encoding in HTTP/1.0");
  for (const char* line :
       {"G(T / HTTP/1.1", "GET  / HTTP/1.1", "GET / HTTP/1.1 ", "GET /", "GET /a b HTTP/1.1",
        " GET / HTTP/1.1", "GET /\x01 HTTP/1.1", "GET / http/1.1"})
    EXPECT_EQ(request_error(std::string(line) + "\r\n\r\n"), "bad request line") << line;
  EXPECT_EQ(request_error("PRI * HTTP/2.0\r\n\r\n"), "unsupported HTTP version");
  // Same values repeated are one length, and gzip under chunked is fine.
  EXPECT_EQ(request("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\n")
                .content_length,
            3u);
  EXPECT_EQ(request("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n").body,
            RequestHead::Body::kChunked);
}

TEST(HttpMessage, ConnectionFlags) {
  EXPECT_TRUE(request("GET / HTTP/1.1\r\n\r\n").keep_alive);
  EXPECT_FALSE(request("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive);
  EXPECT_FALSE(request("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(request("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
  EXPECT_EQ(request("GET / HTTP/1.1\r\n\r\n").body, RequestHead::Body::kNone);
  EXPECT_FALSE(request("GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n").expect_continue);

  EXPECT_TRUE(request("GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n"
                      "Upgrade: websocket\r\n\r\n")
                  .upgrade);
  EXPECT_FALSE(request("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").upgrade);
  EXPECT_FALSE(request("GET /ws HTTP/1.1\r\nConnection: upgrade\r\n\r\n").upgrade);
  const RequestHead connect = request("CONNECT db:5432 HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(connect.upgrade);
  EXPECT_EQ(connect.path(), "db:5432");
}

TEST(HttpMessage, PathOfEachTargetForm) {
  EXPECT_EQ(request("GET /a/b?c=/d#e HTTP/1.1\r\n\r\n").path(), "/a/b");
  EXPECT_EQ(request("GET /a#e?x HTTP/1.1\r\n\r\n").path(), "/a");
  EXPECT_EQ(request("GET http://h:80/x/y?z HTTP/1.1\r\n\r\n").path(), "/x/y");
  EXPECT_EQ(request("GET http://h?z HTTP/1.1\r\n\r\n").path(), "/");
  EXPECT_EQ(request("OPTIONS * HTTP/1.1\r\n\r\n").path(), "*");
}

TEST(HttpMessage, ResponseHeadsAndFraming) {
  uint64_t length = 99;
  const ResponseHead ok = response("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.reason, "OK");
  EXPECT_EQ(response_framing(ok, "GET", &length), Framing::kLength);
  EXPECT_EQ(length, 12u);
  EXPECT_EQ(response_framing(ok, "HEAD", &length), Framing::kNone);
  EXPECT_EQ(response_framing(ok, "CONNECT", &length), Framing::kNone);

  for (const char* line : {"HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified",
                           "HTTP/1.1 100 Continue", "HTTP/1.1 101 Switching Protocols"}) {
    const ResponseHead r = response(std::string(line) + "\r\nContent-Length: 5\r\n\r\n");
    EXPECT_EQ(response_framing(r, "GET", &length), Framing::kNone) << line;
  }
  const ResponseHead chunked = response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(response_framing(chunked, "POST", &length), Framing::kChunked);
  const ResponseHead gzip = response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(response_framing(gzip, "GET", &length), Framing::kUntilClose);
  const ResponseHead bare = response("HTTP/1.0 500\r\n\r\n");
  EXPECT_EQ(bare.reason, "");
  EXPECT_FALSE(bare.keep_alive);
  EXPECT_EQ(response_framing(bare, "GET", &length), Framing::kUntilClose);
  EXPECT_EQ(response_framing(response("HTTP/1.1 407 Auth\r\n\r\n"), "CONNECT", &length),
            Framing::kUntilClose);

  ResponseHead head;
  for (const char* text :
       {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n", "ICY 200 OK\r\n\r\n"})
    EXPECT_EQ(parse_response_head(text, head).error, "bad status line") << text;
  EXPECT_EQ(
      parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", head)
          .error,
      "conflicting Content-Length");
  EXPECT_EQ(parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n",
                                head)
                .error,
            "both Content-Length and Transfer-Encoding");
}

TEST(HttpMessage, ChunkedBodySplitAtEveryOffset) {
  const std::string body =
      "5;name=value;quoted=\"a;b\"\r\nhello\r\n"
      "1A \t;x\r\n" +
      std::string(26, 'z') +
      "\r\n"
      "0000;last\r\nTrailer-One: 1\r\nTrailer-Two: two\r\n\r\n";
  const std::string data = body + "GET / HTTP/1.1\r\n\r\n";
  for (size_t split = 0; split <= data.size(); ++split)
    ASSERT_EQ(scan(Framing::kChunked, 0, data, split), body.size()) << "split at " << split;
  const std::string no_trailers = "3\r\nabc\r\n0\r\n\r\n";
  for (size_t split = 0; split <= no_trailers.size(); ++split)
    ASSERT_EQ(scan(Framing::kChunked, 0, no_trailers + "x", split), no_trailers.size());

  BodyScanner partial(Framing::kChunked);
  EXPECT_EQ(partial.feed(body.substr(0, body.size() - 1)), body.size() - 1);
  EXPECT_FALSE(partial.done());
  EXPECT_FALSE(partial.failed());
}

TEST(HttpMessage, ChunkedBodyRefusals) {
  for (const std::string bad : {
           "5\nhello\r\n0\r\n\r\n",     // bare LF after the size
           "5\r\nhello\n0\r\n\r\n",     // bare LF after the data
           "5\r\nhelloX\r\n0\r\n\r\n",  // data longer than the size
           "0\r\n\r\r\n",               // bare CR in the trailers
           "0\r\nX: a\n\r\n",           // bare LF in the trailers
           "\r\n",                      // no size
           "x\r\n",                     // not hex
           " 5\r\nhello\r\n0\r\n\r\n",  // whitespace first
           "5 5\r\n",                   // digits after whitespace
           "0x5\r\n",                   // a C prefix
           "-1\r\n",                    //
           "11111111111111111\r\n",     // 17 hex digits overflow
           "5;a\x01\r\n",               // control in an extension
           "5\r\r\n",                   //
       }) {
    BodyScanner s(Framing::kChunked);
    s.feed(bad);
    EXPECT_TRUE(s.failed()) << bad;
  }
  BodyScanner big(Framing::kChunked);
  EXPECT_EQ(big.feed("ffffffffffffffff\r\n"), 18u);  // 16 digits is the limit, and fine
  EXPECT_FALSE(big.failed());
  BodyScanner long_line(Framing::kChunked);
  long_line.feed("1;" + std::string(5000, 'e'));
  EXPECT_TRUE(long_line.failed());
  BodyScanner stops(Framing::kChunked);
  EXPECT_EQ(stops.feed("2\r\nab\r\n1\nx"), 8u);  // the bare LF is not taken
}

TEST(HttpMessage, LengthNoneAndUntilClose) {
  for (size_t split = 0; split <= 12; ++split)
    EXPECT_EQ(scan(Framing::kLength, 10, "0123456789AB", split), 10u);
  BodyScanner none(Framing::kNone);
  EXPECT_TRUE(none.done());
  EXPECT_EQ(none.feed("GET"), 0u);
  BodyScanner zero(Framing::kLength, 0);
  EXPECT_TRUE(zero.done());
  BodyScanner forever(Framing::kUntilClose);
  EXPECT_EQ(forever.feed("abc"), 3u);
  EXPECT_EQ(forever.feed(std::string(100000, 'x')), 100000u);
  EXPECT_FALSE(forever.done());
}

TEST(HttpMessage, SerializedResponseRoundTrips) {
  const std::vector<Header> given = {{"Retry-After", "1"},
                                     {"Content-Length", "999"},
                                     {"transfer-encoding", "chunked"},
                                     {"Connection", "keep-alive"},
                                     {"X-Evil", "a\r\nSet-Cookie: x"},
                                     {"Bad Name", "v"},
                                     {"Content-Type", "text/plain"}};
  const std::string text = serialize_response(503, "", given, "unavailable", true);
  ResponseHead head;
  const ParseOutcome o = parse_response_head(text, head);
  ASSERT_EQ(o.state, Parse::kDone) << o.error;
  EXPECT_EQ(head.status, 503);
  EXPECT_EQ(head.reason, "Service Unavailable");
  EXPECT_FALSE(head.keep_alive);
  uint64_t length = 0;
  ASSERT_EQ(response_framing(head, "POST", &length), Framing::kLength);
  EXPECT_EQ(length, 11u);
  EXPECT_EQ(text.substr(o.head_bytes), "unavailable");
  ASSERT_EQ(head.headers.size(), 4u);  // Retry-After, Content-Type, Connection, Content-Length
  EXPECT_EQ(*head.header("retry-after"), "1");
  EXPECT_EQ(*head.header("content-type"), "text/plain");
  EXPECT_EQ(*head.header("connection"), "close");
  EXPECT_EQ(head.header("x-evil"), nullptr);

  const std::string kept = serialize_response(200, "Fine", given, "{}", false);
  ASSERT_EQ(parse_response_head(kept, head).state, Parse::kDone);
  EXPECT_EQ(head.reason, "Fine");
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(*head.header("connection"), "keep-alive");

  const std::string empty = serialize_response(204, "", {}, "ignored", false);
  EXPECT_EQ(empty, "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(serialize_response(599, "", {}, "", false),
            "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(parse_response_head(serialize_response(599, "", {}, "", false), head).state,
            Parse::kDone);
  EXPECT_EQ(head.status, 599);
}

TEST(HttpMessage, FieldChecks) {
  EXPECT_TRUE(valid_field_name("X-Request-Id"));
  EXPECT_FALSE(valid_field_name(""));
  EXPECT_FALSE(valid_field_name("a b"));
  EXPECT_TRUE(valid_field_value("a \t b\x80"));
  EXPECT_FALSE(valid_field_value("a\r\nb"));
}

}  // namespace
}  // namespace faultline::http
