// faultline's TCP fault proxy (src/proxy) on real loopback sockets: an echo server upstream,
// a client through the proxy, every toxic measured by what the client sees (bytes, delays,
// closes, resets). http_abort, counts and leases go through the real API (ToxiproxyApi) with
// a small HTTP server upstream. No privilege is needed or used.
#include "proxy/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/http/http_message.h"
#include "proxy/proxy_collection.h"
#include "proxy/toxiproxy_api.h"
#include "support/child_process.h"

namespace faultline::proxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Echoes whatever each connection sends, until the client half-closes; then closes.
class EchoServer {
 public:
  EchoServer() {
    fd_ = faultline::testing::listen_on_loopback(16, port_);
    EXPECT_GE(fd_, 0);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        workers_.emplace_back([c] {
          char buf[65536];
          for (;;) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            if (::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
          }
          ::close(c);
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& w : workers_) w.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

int connect_to(const std::string& hostport) {
  auto ep = parse_endpoint(hostport);
  if (!ep) return -1;
  int fd = ::socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ep->addr), ep->len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until `want` bytes came, the peer closed, or the timeout; errno of a failed read in
// `err`.
std::string read_some(int fd, size_t want, std::chrono::milliseconds timeout, int* err = nullptr) {
  std::string got;
  auto deadline = Clock::now() + timeout;
  char buf[65536];
  while (got.size() < want) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && err) *err = errno;
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

class TcpProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<TcpProxy>(ProxyConfig{"p", "127.0.0.1:0", echo_.address(), true});
    ASSERT_TRUE(proxy_->start());
  }
  void add(const std::string& json) {
    auto t = toxic_from_json(nlohmann::json::parse(json));
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_TRUE(proxy_->toxics().add(*t));
  }
  int client() { return connect_to(proxy_->config().listen); }
  double round_trip_ms(int fd, const std::string& msg = "ping") {
    auto t0 = Clock::now();
    EXPECT_EQ(::send(fd, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
    EXPECT_EQ(read_some(fd, msg.size(), 5s), msg);
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }

  EchoServer echo_;
  std::unique_ptr<TcpProxy> proxy_;
};

TEST_F(TcpProxyTest, PassesBytesBothWaysAndAHalfCloseWithoutToxics) {
  EXPECT_NE(proxy_->config().listen, "127.0.0.1:0") << "port 0 is reported as the real port";
  int fd = client();
  ASSERT_GE(fd, 0);
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] {
    ASSERT_EQ(::send(fd, big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
    ::shutdown(fd, SHUT_WR);  // the echo server sees EOF only through the proxy's half-close
  });
  std::string back = read_some(fd, big.size() + 1, 5s);
  writer.join();
  EXPECT_EQ(back, big);
  ::close(fd);
}

TEST_F(TcpProxyTest, LatencyDelaysEachDirectionAndALaterToxicReachesAnOpenConnection) {
  int fd = client();
  ASSERT_GE(fd, 0);
  EXPECT_LT(round_trip_ms(fd), 50);
  add(R"({"type":"latency","attributes":{"latency":120}})");  // on the open connection too
  double down = round_trip_ms(fd);
  EXPECT_GE(down, 115);
  EXPECT_LT(down, 400);
  add(R"({"type":"latency","stream":"upstream","attributes":{"latency":80}})");
  double both = round_trip_ms(fd);
  EXPECT_GE(both, 195);
  ASSERT_TRUE(proxy_->toxics().remove("latency_downstream"));
  ASSERT_TRUE(proxy_->toxics().remove("latency_upstream"));
  EXPECT_LT(round_trip_ms(fd), 50);
  ::close(fd);
}

TEST_F(TcpProxyTest, BandwidthLimitsTheRate) {
  add(R"({"type":"bandwidth","attributes":{"rate":200}})");  // 200 KB/s back to the client
  int fd = client();
  std::string data(100'000, 'b');
  auto t0 = Clock::now();
  ASSERT_EQ(::send(fd, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(read_some(fd, data.size(), 5s).size(), data.size());
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GE(s, 0.45) << "100 kB at 200 KB/s takes half a second";
  EXPECT_LT(s, 1.5);
  ::close(fd);
}

TEST_F(TcpProxyTest, LimitDataPassesThatManyBytesThenCloses) {
  add(R"({"type":"limit_data","attributes":{"bytes":1000}})");
  int fd = client();
  std::string data(5000, 'l');
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  std::string got = read_some(fd, data.size(), 3s);
  EXPECT_EQ(got.size(), 1000u);
  ::close(fd);
}

TEST_F(TcpProxyTest, TimeoutSwallowsDataClosesAfterItsTimeAndItsRemovalClosesToo) {
  add(R"({"type":"timeout","attributes":{"timeout":300}})");
  int fd = client();
  auto t0 = Clock::now();
  ::send(fd, "x", 1, MSG_NOSIGNAL);
  EXPECT_EQ(read_some(fd, 1, 3s), "") << "nothing comes back";
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_GE(ms, 280);
  EXPECT_LT(ms, 1500) << "closed after the timeout, not held";
  ::close(fd);

  ASSERT_TRUE(proxy_->toxics().remove("timeout_downstream"));
  add(R"({"type":"timeout","attributes":{"timeout":0}})");  // 0: hold until removed
  fd = client();
  ::send(fd, "y", 1, MSG_NOSIGNAL);
  EXPECT_EQ(read_some(fd, 1, 400ms), "");
  ASSERT_TRUE(proxy_->toxics().remove("timeout_downstream"));
  t0 = Clock::now();
  EXPECT_EQ(read_some(fd, 1, 3s), "");  // EOF, not a timeout
  EXPECT_LT(Clock::now() - t0, 1s);
  ::close(fd);
}

TEST_F(TcpProxyTest, ResetPeerResetsTheClientAfterItsTimeout) {
  add(R"({"type":"reset_peer","stream":"upstream","attributes":{"timeout":100}})");
  int fd = client();
  ::send(fd, "r", 1, MSG_NOSIGNAL);
  int err = 0;
  EXPECT_EQ(read_some(fd, 1, 3s, &err), "");
  EXPECT_EQ(err, ECONNRESET);
  ::close(fd);
}

TEST_F(TcpProxyTest, SlowCloseDelaysTheCloseAndSlicerKeepsTheBytes) {
  add(R"({"type":"slow_close","attributes":{"delay":300}})");
  add(R"({"type":"slicer","attributes":{"average_size":10,"size_variation":5,"delay":100}})");
  int fd = client();
  std::string data(2000, 's');
  ::send(fd, data.data(), data.size(), 0);
  ::shutdown(fd, SHUT_WR);
  auto t0 = Clock::now();
  std::string got = read_some(fd, data.size() + 1, 5s);  // to EOF
  EXPECT_EQ(got, data);
  EXPECT_GE(Clock::now() - t0, 300ms) << "the echo server's close is held back";
  ::close(fd);
}

TEST_F(TcpProxyTest, ToxicityZeroNeverAppliesTheToxic) {
  add(R"({"type":"latency","toxicity":0,"attributes":{"latency":500}})");
  int fd = client();
  EXPECT_LT(round_trip_ms(fd), 200);
  ::close(fd);
}

TEST_F(TcpProxyTest, DisablingClosesOpenConnectionsAndRefusesNewOnesUntilEnabled) {
  int fd = client();
  ASSERT_GE(fd, 0);
  round_trip_ms(fd);
  ProxyConfig c = proxy_->config();
  std::string listen = c.listen;
  c.enabled = false;
  ASSERT_TRUE(proxy_->update(c));
  EXPECT_EQ(read_some(fd, 1, 2s), "") << "the open connection was closed";
  ::close(fd);
  EXPECT_LT(connect_to(listen), 0) << "nothing listens while disabled";
  c.enabled = true;
  ASSERT_TRUE(proxy_->update(c));
  EXPECT_EQ(proxy_->config().listen, listen) << "enabled again on the same address";
  fd = client();
  ASSERT_GE(fd, 0);
  round_trip_ms(fd);
  ::close(fd);
}

TEST(TcpProxy, AnUnreachableUpstreamClosesTheClientAndBadAddressesAreErrors) {
  // A port nothing listens on: bind one, close it.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  TcpProxy p({"p", "127.0.0.1:0", "127.0.0.1:" + std::to_string(ntohs(a.sin_port)), true});
  ASSERT_TRUE(p.start());
  int fd = connect_to(p.config().listen);
  ASSERT_GE(fd, 0);
  auto t0 = Clock::now();
  EXPECT_EQ(read_some(fd, 1, 3s), "");
  EXPECT_LT(Clock::now() - t0, 1s) << "closed at once, not left hanging";
  ::close(fd);
  EXPECT_FALSE(parse_endpoint("nocolon"));
  EXPECT_FALSE(parse_endpoint("127.0.0.1:99999"));
  EXPECT_TRUE(parse_endpoint("localhost:80"));
  EXPECT_TRUE(parse_endpoint("[::1]:80"));
}

TEST_F(TcpProxyTest, HttpAbortLeavesAConnectionThatIsNotHttpUntouched) {
  add(R"({"type":"http_abort","attributes":{"status":500}})");
  // A text protocol with no blank line (Redis's inline commands) must not be held waiting for
  // the end of a head, and binary bytes pass as they are.
  int fd = client();
  ASSERT_GE(fd, 0);
  EXPECT_LT(round_trip_ms(fd, "SET a b\r\n"), 200);
  EXPECT_LT(round_trip_ms(fd, "GET / HTTP/1.1\r\n\r\n"), 200) << "passed through for good";
  ::close(fd);
  fd = client();
  std::string binary("\x00\x01\x02GET / HTTP/1.1\r\n\r\n", 21);
  EXPECT_LT(round_trip_ms(fd, binary), 200);
  ::close(fd);
}

// A small HTTP/1.1 server, with the repo's own parser: answers each request in order with 200
// and "<method> <target>" as the body (the head alone for HEAD), /slow after 200 ms; closes
// when the client has closed and every request is answered (unless told to stay open). Notes
// every request it gets.
class HttpServer {
 public:
  HttpServer() {
    fd_ = faultline::testing::listen_on_loopback(64, port_);
    EXPECT_GE(fd_, 0);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::lock_guard lock(mu_);
        workers_.emplace_back([this, c] { serve(c); });
      }
    });
  }
  ~HttpServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    std::lock_guard lock(mu_);
    for (auto& w : workers_) w.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  static std::string drip_answer() {
    return "HTTP/1.1 200 OK\r\nContent-Length: 35\r\n\r\n" + std::string(35, 'd');
  }
  static std::string answer(const std::string& method, const std::string& target) {
    std::string body = method + " " + target;
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    return method == "HEAD" ? head : head + body;
  }

 private:
  void serve(int c) {
    std::string buf;
    char chunk[65536];
    for (;;) {
      for (;;) {  // every complete request buffered
        http::RequestHead head;
        auto o = http::parse_request_head(buf, head);
        if (o.state != http::Parse::kDone) break;
        http::BodyScanner body(head.body, head.content_length);
        size_t n = body.feed(std::string_view(buf).substr(o.head_bytes));
        if (!body.done()) break;
        buf.erase(0, o.head_bytes + n);
        {
          std::lock_guard lock(mu_);
          seen_.push_back(head.method + " " + head.target);
        }
        if (head.target == "/slow") std::this_thread::sleep_for(200ms);
        if (head.target == "/drip") {  // a download still streaming 7 s later
          std::string a = drip_answer();
          size_t head_size = a.find("\r\n\r\n") + 4;
          ::send(c, a.data(), head_size, MSG_NOSIGNAL);
          for (size_t i = head_size; i < a.size(); ++i) {
            std::this_thread::sleep_for(200ms);
            ::send(c, a.data() + i, 1, MSG_NOSIGNAL);
          }
          continue;
        }
        std::string a = answer(head.method, head.target);
        ::send(c, a.data(), a.size(), MSG_NOSIGNAL);
      }
      ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
    }
    while (stay_open && !stopping_) std::this_thread::sleep_for(20ms);
    ::close(c);
  }

 public:
  std::atomic<bool> stay_open{false};  // a server that does not close after the client's FIN

 private:
  std::atomic<bool> stopping_{false};

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<std::string> seen_;
};

std::string request(const std::string& target, const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

const std::string kAbort503 =
    "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\ndown";

// The proxy as `faultline proxy` runs it (a collection behind the Toxiproxy API), in front of
// the HTTP server above.
class ProxyHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(api_.start("127.0.0.1", 0));
    auto [status, body] =
        call("POST", "/proxies",
             {{"name", "web"}, {"listen", "127.0.0.1:0"}, {"upstream", server_.address()}});
    ASSERT_EQ(status, 201) << body;
    listen_ = body["listen"].get<std::string>();
  }
  // One API call; the status and the JSON body (null when there is none).
  std::pair<int, nlohmann::json> call(const std::string& method, const std::string& path,
                                      const nlohmann::json& body = nullptr) {
    httplib::Client c("127.0.0.1", api_.port());
    std::string text = body.is_null() ? "" : body.dump();
    httplib::Result r = method == "GET"      ? c.Get(path)
                        : method == "DELETE" ? c.Delete(path)
                        : method == "PATCH"  ? c.Patch(path, text, "application/json")
                                             : c.Post(path, text, "application/json");
    if (!r) return {0, nullptr};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }
  void add(const nlohmann::json& toxic) {
    auto [status, body] = call("POST", "/proxies/web/toxics", toxic);
    ASSERT_EQ(status, 200) << body;
  }
  nlohmann::json counts(const std::string& toxic) {
    auto [status, body] = call("GET", "/proxies/web/toxics/" + toxic + "/counts");
    EXPECT_EQ(status, 200) << body;
    return body;
  }
  // A new connection, one request and the client's half-close, everything until the close.
  std::string exchange(const std::string& req) {
    int fd = connect_to(listen_);
    EXPECT_GE(fd, 0);
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    std::string got = read_some(fd, SIZE_MAX, 6s);
    ::close(fd);
    return got;
  }

  HttpServer server_;
  ProxyCollection proxies_;
  ToxiproxyApi api_{proxies_};
  std::string listen_;
};

TEST_F(ProxyHttpTest, AnswersMatchingRequestsWithItsStatusAndBodyAndPassesTheOthers) {
  add({{"type", "http_abort"},
       {"attributes", {{"status", 503}, {"path", "/pay"}, {"body", "no payments"}}}});
  // curl, a real client: the prefix /pay matches /pay/now.
  std::string cmd = "curl -s --noproxy '*' -m 5 -w ' %{http_code}' http://" + listen_ + "/pay/now";
  FILE* curl = ::popen(cmd.c_str(), "r");
  ASSERT_NE(curl, nullptr);
  char out[256] = {};
  size_t n = std::fread(out, 1, sizeof out - 1, curl);
  ::pclose(curl);
  EXPECT_EQ(std::string(out, n), "no payments 503");
  EXPECT_EQ(exchange(request("/pay")),
            "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 11\r\n\r\n"
            "no payments");
  EXPECT_EQ(exchange(request("/other")), HttpServer::answer("GET", "/other"))
      << "a request that does not match reaches the server";
  EXPECT_EQ(server_.seen(), std::vector<std::string>{"GET /other"})
      << "the answered requests never reached the server";

  // A method and a glob ('*' within one segment); changed on the live toxic.
  auto [status, body] = call("PATCH", "/proxies/web/toxics/http_abort_downstream",
                             {{"attributes", {{"method", "POST"}, {"path", "/v1/*/charge"}}}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["attributes"]["path"], "/v1/*/charge");
  std::string post = "POST /v1/a/charge HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(exchange(post).substr(0, 12), "HTTP/1.1 503");
  EXPECT_EQ(exchange(request("/v1/a/charge")), HttpServer::answer("GET", "/v1/a/charge"));
  std::string deeper = "POST /v1/a/b/charge HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(exchange(deeper), HttpServer::answer("POST", "/v1/a/b/charge"));
}

TEST_F(ProxyHttpTest, OnAKeepAliveConnectionTheFirstRequestPassesAndTheMatchingOneIsAnswered) {
  add({{"type", "http_abort"}, {"attributes", {{"path", "/fail"}, {"body", "down"}}}});
  int fd = connect_to(listen_);
  ASSERT_GE(fd, 0);
  std::string r1 = request("/ok");
  ::send(fd, r1.data(), r1.size(), 0);
  EXPECT_EQ(read_some(fd, HttpServer::answer("GET", "/ok").size(), 3s),
            HttpServer::answer("GET", "/ok"));
  std::string r2 = request("/fail");
  ::send(fd, r2.data(), r2.size(), 0);
  EXPECT_EQ(read_some(fd, SIZE_MAX, 6s), kAbort503) << "the answer, then the close";
  ::close(fd);
  EXPECT_EQ(server_.seen(), std::vector<std::string>{"GET /ok"});
  nlohmann::json c = counts("http_abort_downstream");
  EXPECT_EQ(
      c,
      (nlohmann::json{
          {"name", "http_abort_downstream"}, {"connections", 1}, {"requests", 2}, {"aborted", 1}}));

  // Removed while a connection is open: its next request goes to the server.
  fd = connect_to(listen_);
  ::send(fd, r1.data(), r1.size(), 0);
  EXPECT_EQ(read_some(fd, HttpServer::answer("GET", "/ok").size(), 3s),
            HttpServer::answer("GET", "/ok"));
  ASSERT_EQ(call("DELETE", "/proxies/web/toxics/http_abort_downstream").first, 204);
  ::send(fd, r2.data(), r2.size(), 0);
  EXPECT_EQ(read_some(fd, HttpServer::answer("GET", "/fail").size(), 3s),
            HttpServer::answer("GET", "/fail"));
  // And added again on the same open connection: the next request is answered.
  add({{"type", "http_abort"}, {"attributes", {{"path", "/fail"}, {"body", "down"}}}});
  ::send(fd, r2.data(), r2.size(), 0);
  EXPECT_EQ(read_some(fd, SIZE_MAX, 6s), kAbort503);
  ::close(fd);
}

TEST_F(ProxyHttpTest, PipelinedRequestsGetTheRealAnswersFirstThenTheAbortInOrder) {
  add({{"type", "http_abort"}, {"attributes", {{"path", "/fail"}, {"body", "down"}}}});
  int fd = connect_to(listen_);
  ASSERT_GE(fd, 0);
  // Bodies that look like the matching request are skipped as bodies, by length and chunked.
  std::string hidden = request("/fail");
  std::string length_post =
      "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(hidden.size()) +
      "\r\n\r\n" + hidden;
  std::string chunked_post =
      "POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", hidden.size());
  chunked_post += size + hidden + "\r\n0\r\n\r\n";
  std::string all =
      request("/slow") + length_post + chunked_post + request("/fail") + request("/after");
  ASSERT_EQ(::send(fd, all.data(), all.size(), 0), static_cast<ssize_t>(all.size())) << "one write";
  std::string expected = HttpServer::answer("GET", "/slow") +
                         HttpServer::answer("POST", "/upload") +
                         HttpServer::answer("POST", "/chunked") + kAbort503;
  auto t0 = Clock::now();
  EXPECT_EQ(read_some(fd, SIZE_MAX, 6s), expected);
  EXPECT_LT(Clock::now() - t0, 2s) << "sent when the server closed, not after the grace";
  ::close(fd);
  EXPECT_EQ(server_.seen(),
            (std::vector<std::string>{"GET /slow", "POST /upload", "POST /chunked"}))
      << "nothing from the matching request on";
}

TEST_F(ProxyHttpTest, AHeadSplitAcrossWritesIsHeldUntilWholeAndThenAnswered) {
  add({{"type", "http_abort"}, {"attributes", {{"path", "/fail"}, {"body", "down"}}}});
  int fd = connect_to(listen_);
  ASSERT_GE(fd, 0);
  std::string r = request("/fail");
  ::send(fd, r.data(), 7, 0);  // "GET /fa"
  std::this_thread::sleep_for(150ms);
  ::send(fd, r.data() + 7, r.size() - 7, 0);
  EXPECT_EQ(read_some(fd, SIZE_MAX, 6s), kAbort503);
  ::close(fd);
  EXPECT_TRUE(server_.seen().empty()) << "no part of it was sent on";
}

// The grace never cuts into an answer still arriving: the abort waits for the download to end
// (the server closes after it) instead of landing inside its body at 5 s.
TEST_F(ProxyHttpTest, AnAnswerStillStreamingAfterTheGraceIsNotInterrupted) {
  add({{"type", "http_abort"}, {"attributes", {{"path", "/fail"}, {"body", "down"}}}});
  int fd = connect_to(listen_);
  ASSERT_GE(fd, 0);
  std::string both = request("/drip") + request("/fail");
  ::send(fd, both.data(), both.size(), 0);
  auto t0 = Clock::now();
  EXPECT_EQ(read_some(fd, SIZE_MAX, 12s), HttpServer::drip_answer() + kAbort503);
  EXPECT_GE(Clock::now() - t0, 6500ms) << "the answer came after the whole download";
  ::close(fd);
}

TEST_F(ProxyHttpTest, AServerThatStaysOpenAfterTheHalfCloseIsWaitedForFiveSecondsAtMost) {
  server_.stay_open = true;
  add({{"type", "http_abort"}, {"attributes", {{"path", "/fail"}, {"body", "down"}}}});
  int fd = connect_to(listen_);
  ASSERT_GE(fd, 0);
  std::string both = request("/ok") + request("/fail");
  auto t0 = Clock::now();
  ::send(fd, both.data(), both.size(), 0);
  EXPECT_EQ(read_some(fd, HttpServer::answer("GET", "/ok").size(), 2s),
            HttpServer::answer("GET", "/ok"))
      << "the earlier answer is passed on at once";
  EXPECT_EQ(read_some(fd, SIZE_MAX, 8s), kAbort503);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GE(s, 4.9);
  EXPECT_LT(s, 6.5);
  ::close(fd);
}

TEST_F(ProxyHttpTest, ToxicityIsDrawnForEachMatchingRequest) {
  add({{"type", "http_abort"}, {"toxicity", 0.5}, {"attributes", {{"body", "down"}}}});
  const std::string req = request("/x"), ok = HttpServer::answer("GET", "/x");
  int aborted = 0, aborted_after_a_pass = 0;
  int fd = -1;
  bool passed_here = false;  // a request passed on this connection before
  for (int i = 0; i < 200; ++i) {
    if (fd < 0) {
      fd = connect_to(listen_);
      passed_here = false;
      ASSERT_GE(fd, 0);
    }
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string got = read_some(fd, ok.size(), 6s);
    if (got == ok) {
      passed_here = true;
      continue;
    }
    ASSERT_EQ(got + read_some(fd, SIZE_MAX, 6s), kAbort503) << "request " << i;
    ++aborted;
    if (passed_here) ++aborted_after_a_pass;
    ::close(fd);
    fd = -1;
  }
  if (fd >= 0) ::close(fd);
  EXPECT_GE(aborted, 60);
  EXPECT_LE(aborted, 140);
  // Drawn per connection, a connection whose first request passed would never abort.
  EXPECT_GT(aborted_after_a_pass, 0);
  nlohmann::json c = counts("http_abort_downstream");
  EXPECT_EQ(c["requests"], 200);
  EXPECT_EQ(c["aborted"], aborted);
  EXPECT_EQ(c["connections"], aborted);
}

TEST_F(ProxyHttpTest, AHeadRequestGetsTheHeadAlone) {
  add({{"type", "http_abort"}, {"attributes", {{"body", "down"}}}});
  EXPECT_EQ(exchange(request("/x", "HEAD")),
            "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\n");
}

TEST_F(ProxyHttpTest, WrongAttributeTypesAndRangesAre400sNamingTheAttribute) {
  auto refused = [&](const nlohmann::json& attributes, const std::string& message) {
    auto [status, body] =
        call("POST", "/proxies/web/toxics", {{"type", "http_abort"}, {"attributes", attributes}});
    EXPECT_EQ(status, 400) << attributes;
    EXPECT_EQ(body["error"], message) << attributes;
    EXPECT_EQ(body["status"], 400);
  };
  refused({{"status", "503"}}, "bad request body: attributes.status must be a whole number");
  refused({{"status", 600}}, "bad request body: attributes.status must be from 200 to 599");
  refused({{"status", 199}}, "bad request body: attributes.status must be from 200 to 599");
  refused({{"method", 5}}, "bad request body: attributes.method must be a string");
  refused({{"path", nlohmann::json::array()}},
          "bad request body: attributes.path must be a string");
  refused({{"body", 1}}, "bad request body: attributes.body must be a string");
  refused({{"method", "get"}},
          "bad request body: attributes.method: method \"get\" is not upper case (methods are "
          "case-sensitive)");
  refused({{"path", "pay"}},
          "bad request body: attributes.path: path \"pay\" does not start with '/'");
  auto [status, body] =
      call("POST", "/proxies/web/toxics", {{"type", "latency"}, {"lease_ms", "soon"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"],
            "bad request body: lease_ms must be a whole number of milliseconds (0: no lease)");

  // The defaults, each attribute with its JSON type; no lease_ms when there is no lease.
  add({{"type", "http_abort"}});
  std::tie(status, body) = call("GET", "/proxies/web/toxics/http_abort_downstream");
  EXPECT_EQ(body["attributes"],
            (nlohmann::json{{"status", 503}, {"method", ""}, {"path", ""}, {"body", ""}}));
  EXPECT_FALSE(body.contains("lease_ms"));
  std::tie(status, body) = call("POST", "/proxies/web/toxics/http_abort_downstream",
                                {{"attributes", {{"status", 1000}}}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"], "bad request body: attributes.status must be from 200 to 599");
  std::tie(status, body) = call("GET", "/proxies/web/toxics/http_abort_downstream");
  EXPECT_EQ(body["attributes"]["status"], 503) << "a refused update changes nothing";
}

TEST_F(ProxyHttpTest, CountsCountConnectionsPerByteToxicSurviveAnUpdateAndGoWithTheToxic) {
  add({{"type", "latency"}, {"attributes", {{"latency", 1}}}});
  add({{"type", "latency"}, {"name", "never"}, {"toxicity", 0}, {"attributes", {{"latency", 1}}}});
  for (int i = 0; i < 2; ++i) EXPECT_EQ(exchange(request("/a")), HttpServer::answer("GET", "/a"));
  EXPECT_EQ(
      counts("latency_downstream"),
      (nlohmann::json{
          {"name", "latency_downstream"}, {"connections", 2}, {"requests", 0}, {"aborted", 0}}));
  EXPECT_EQ(counts("never")["connections"], 0) << "never drawn, never counted";
  ASSERT_EQ(
      call("PATCH", "/proxies/web/toxics/latency_downstream", {{"attributes", {{"latency", 2}}}})
          .first,
      200);
  EXPECT_EQ(counts("latency_downstream")["connections"], 2) << "kept across an update";
  ASSERT_EQ(call("DELETE", "/proxies/web/toxics/latency_downstream").first, 204);
  auto [status, body] = call("GET", "/proxies/web/toxics/latency_downstream/counts");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"], "toxic not found");
  add({{"type", "latency"}, {"attributes", {{"latency", 1}}}});
  EXPECT_EQ(counts("latency_downstream")["connections"], 0) << "a new toxic counts afresh";
  std::tie(status, body) = call("GET", "/proxies/nope/toxics/never/counts");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"], "proxy not found");
}

TEST_F(ProxyHttpTest, ALeasedToxicIsRemovedByTheProxyUnlessItIsRenewed) {
  add({{"type", "latency"}, {"name", "leased"}, {"lease_ms", 300}});
  add({{"type", "latency"}, {"name", "renewed"}, {"lease_ms", 300}});
  add({{"type", "latency"}, {"name", "kept"}});
  auto [status, body] = call("GET", "/proxies/web/toxics/leased");
  EXPECT_EQ(body["lease_ms"], 300);
  auto t0 = Clock::now();
  for (int i = 1; i <= 6; ++i) {  // renewed every 100 ms, up to 600 ms
    std::this_thread::sleep_until(t0 + i * 100ms);
    std::tie(status, body) = call("POST", "/proxies/web/toxics/renewed", {{"lease_ms", 300}});
    ASSERT_EQ(status, 200) << "renewal " << i << ": " << body;
  }
  EXPECT_EQ(call("GET", "/proxies/web/toxics/leased").first, 404)
      << "gone 600 ms after a 300 ms lease, with no call made on it";
  EXPECT_EQ(call("GET", "/proxies/web/toxics/renewed").first, 200);
  EXPECT_EQ(call("GET", "/proxies/web/toxics/kept").first, 200);
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(call("GET", "/proxies/web/toxics/renewed").first, 404) << "not renewed any more";
  std::tie(status, body) = call("GET", "/proxies/web/toxics");
  ASSERT_EQ(body.size(), 1u) << body;
  EXPECT_EQ(body[0]["name"], "kept");
  EXPECT_FALSE(body[0].contains("lease_ms"));
}

TEST_F(ProxyHttpTest, ADisabledProxysLeaseEnablesItAgainUnlessItIsRenewed) {
  auto [status, body] =
      call("POST", "/proxies",
           {{"name", "renewed"}, {"listen", "127.0.0.1:0"}, {"upstream", server_.address()}});
  ASSERT_EQ(status, 201) << body;
  const std::string renewed_listen = body["listen"];
  std::tie(status, body) = call("POST", "/proxies/web", {{"enabled", false}, {"lease_ms", 300}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["enabled"], false);
  EXPECT_EQ(body["lease_ms"], 300);
  std::tie(status, body) =
      call("PATCH", "/proxies/renewed", {{"enabled", false}, {"lease_ms", 300}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_LT(connect_to(listen_), 0) << "down while the lease runs";
  auto t0 = Clock::now();
  for (int i = 1; i <= 6; ++i) {  // renewed every 100 ms, up to 600 ms, with or without enabled
    std::this_thread::sleep_until(t0 + i * 100ms);
    nlohmann::json renewal = {{"lease_ms", 300}};
    if (i % 2) renewal["enabled"] = false;
    std::tie(status, body) = call("POST", "/proxies/renewed", renewal);
    ASSERT_EQ(status, 200) << "renewal " << i << ": " << body;
    EXPECT_EQ(body["enabled"], false);
  }
  // 600 ms after a 300 ms lease, with no call made on it: listening again, on the same address.
  std::tie(status, body) = call("GET", "/proxies/web");
  EXPECT_EQ(body["enabled"], true) << body;
  EXPECT_EQ(body["listen"], listen_);
  EXPECT_FALSE(body.contains("lease_ms")) << "shown only while a lease runs";
  EXPECT_EQ(exchange(request("/back")), HttpServer::answer("GET", "/back"));
  std::tie(status, body) = call("GET", "/proxies/renewed");
  EXPECT_EQ(body["enabled"], false) << body;
  EXPECT_EQ(body["lease_ms"], 300);
  EXPECT_LT(connect_to(renewed_listen), 0) << "renewed: still down";
  std::this_thread::sleep_for(600ms);
  std::tie(status, body) = call("GET", "/proxies/renewed");
  EXPECT_EQ(body["enabled"], true) << "not renewed any more: " << body;
  int fd = connect_to(renewed_listen);
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
}

TEST_F(ProxyHttpTest, EnablingResetOrAZeroLeaseEndsADisabledProxysLease) {
  // Each case ends the lease; the proxy is then disabled again without one, and must stay down
  // past the end of the lease that was ended.
  auto ended_then_down = [&](const std::string& what, const std::function<void()>& end) {
    auto [status, body] = call("POST", "/proxies/web", {{"enabled", false}, {"lease_ms", 300}});
    ASSERT_EQ(status, 200) << what << ": " << body;
    end();
    std::tie(status, body) = call("POST", "/proxies/web", {{"enabled", false}});
    ASSERT_EQ(status, 200) << what << ": " << body;
    EXPECT_FALSE(body.contains("lease_ms")) << what << ": " << body;
    std::this_thread::sleep_for(500ms);
    std::tie(status, body) = call("GET", "/proxies/web");
    EXPECT_EQ(body["enabled"], false) << what << ": the ended lease enabled it: " << body;
    ASSERT_EQ(call("POST", "/proxies/web", {{"enabled", true}}).first, 200);
  };
  ended_then_down("enabled: true", [&] {
    auto [status, body] = call("POST", "/proxies/web", {{"enabled", true}});
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body["enabled"], true);
    EXPECT_FALSE(body.contains("lease_ms")) << body;
  });
  ended_then_down("/reset", [&] {
    EXPECT_EQ(call("POST", "/reset").first, 204);
    EXPECT_FALSE(call("GET", "/proxies/web").second.contains("lease_ms"));
  });
  ended_then_down("lease_ms: 0", [&] {
    auto [status, body] = call("PATCH", "/proxies/web", {{"lease_ms", 0}});
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body["enabled"], false) << "a zero lease ends the lease, not the down";
    EXPECT_FALSE(body.contains("lease_ms")) << body;
  });
  // A proxy disabled without a lease gets one from an update that names lease_ms.
  ASSERT_EQ(call("POST", "/proxies/web", {{"enabled", false}}).first, 200);
  auto [status, body] = call("POST", "/proxies/web", {{"lease_ms", 200}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["lease_ms"], 200);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(call("GET", "/proxies/web").second["enabled"], true);
}

TEST_F(ProxyHttpTest, BadProxyLeasesAre400sAndChangeNothing) {
  auto refused = [&](const std::string& method, const std::string& path,
                     const nlohmann::json& request, const std::string& message) {
    auto [status, body] = call(method, path, request);
    EXPECT_EQ(status, 400) << request;
    EXPECT_EQ(body["error"], message) << request;
    EXPECT_EQ(body["status"], 400);
  };
  const std::string bad_type =
      "bad request body: lease_ms must be a whole number of milliseconds (0: no lease)";
  refused("POST", "/proxies/web", {{"enabled", false}, {"lease_ms", "300"}}, bad_type);
  refused("PATCH", "/proxies/web", {{"enabled", false}, {"lease_ms", -1}}, bad_type);
  refused("POST", "/proxies/web", {{"enabled", false}, {"lease_ms", 1.5}}, bad_type);
  refused("POST", "/proxies/web", {{"enabled", false}, {"lease_ms", true}}, bad_type);
  const std::string enabled =
      "bad request body: lease_ms is a lease on a disabled proxy, and this one would be enabled "
      "(send it with \"enabled\": false)";
  refused("POST", "/proxies/web", {{"enabled", true}, {"lease_ms", 300}}, enabled);
  refused("POST", "/proxies/web", {{"lease_ms", 300}}, enabled);  // enabled, no lease running
  auto [status, body] = call("GET", "/proxies/web");
  EXPECT_EQ(body["enabled"], true) << "a refused update changes nothing: " << body;
  EXPECT_FALSE(body.contains("lease_ms"));
  EXPECT_EQ(exchange(request("/up")), HttpServer::answer("GET", "/up"));
  // While a lease runs, enabled: true with a lease is refused too, and the lease runs on.
  ASSERT_EQ(call("POST", "/proxies/web", {{"enabled", false}, {"lease_ms", 60000}}).first, 200);
  refused("POST", "/proxies/web", {{"enabled", true}, {"lease_ms", 300}}, enabled);
  std::tie(status, body) = call("GET", "/proxies/web");
  EXPECT_EQ(body["enabled"], false);
  EXPECT_EQ(body["lease_ms"], 60000);
  // Leases start with an update: a create that names one is refused.
  refused(
      "POST", "/proxies",
      {{"name", "other"}, {"upstream", server_.address()}, {"enabled", false}, {"lease_ms", 300}},
      "bad request body: lease_ms is read by an update of the proxy (POST /proxies/{name}), "
      "not by its creation");
  EXPECT_EQ(call("GET", "/proxies/other").first, 404);
}
}  // namespace
}  // namespace faultline::proxy
