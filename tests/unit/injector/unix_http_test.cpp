// The container engines' HTTP client (bounded_http.h) against a server on a unix socket that
// answers the ways an engine (or something pretending to be one) might: with a length, chunked,
// until close, too much, too slowly, or not HTTP at all. The real Docker Engine API is
// exercised by the container tests (tests/containers).
#include "injector/bounded_http.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

namespace faultline::injector {
namespace {

using namespace std::chrono_literals;

// Answers every connection with `answer`, after `delay`, then closes. Records the request.
class FakeEngine {
 public:
  FakeEngine(std::string answer, std::chrono::milliseconds delay = 0ms)
      : answer_(std::move(answer)), delay_(delay) {
    path_ = "/tmp/faultline-unix-http-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      request_ = req;
      std::this_thread::sleep_for(delay_);
      for (size_t at = 0; at < answer_.size();) {
        ssize_t n = ::send(c, answer_.data() + at, answer_.size() - at, MSG_NOSIGNAL);
        if (n <= 0) break;
        at += static_cast<size_t>(n);
      }
      ::close(c);
    });
  }
  ~FakeEngine() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  std::string answer_;
  std::chrono::milliseconds delay_;
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::string request_;
};

TEST(UnixHttp, ReadsAnAnswerWithALengthAndSendsAWellFormedRequest) {
  FakeEngine engine(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
      "[{}]xyz-and-more-than-the-length");
  auto r = unix_http(engine.path(), "GET", "/v1.41/containers/json?all=1", 2000ms);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "[{}]xyz");
  std::string req = engine.request();
  EXPECT_EQ(req.rfind("GET /v1.41/containers/json?all=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nHost: localhost\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nConnection: close\r\n"), std::string::npos) << req;
}

TEST(UnixHttp, DecodesAChunkedAnswerAndOneThatEndsAtClose) {
  {
    FakeEngine engine(
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"me\r\n"
        "c;ext=1\r\nssage\":\"no\"}\r\n0\r\n\r\n");
    auto r = unix_http(engine.path(), "POST", "/containers/x/kill", 2000ms);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->body, "{\"message\":\"no\"}");
    EXPECT_NE(engine.request().find("Content-Length: 0\r\n"), std::string::npos);
  }
  FakeEngine engine("HTTP/1.0 200 OK\r\n\r\nOK");
  auto r = unix_http(engine.path(), "GET", "/_ping", 2000ms);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "OK");
}

TEST(UnixHttp, TooLargeTooSlowCutShortOrNotHttpIsAnErrorThatSaysSo) {
  {
    FakeEngine engine("HTTP/1.1 200 OK\r\n\r\n" + std::string(5000, 'x'));
    auto r = unix_http(engine.path(), "GET", "/big", 2000ms, 1024);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("larger than 1024 bytes"), std::string::npos)
        << r.error().message;
  }
  {
    FakeEngine engine("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK", 1500ms);
    auto started = std::chrono::steady_clock::now();
    auto r = unix_http(engine.path(), "GET", "/slow", 200ms);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1000ms) << "the timeout holds";
  }
  {
    FakeEngine engine("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort");
    auto r = unix_http(engine.path(), "GET", "/cut", 2000ms);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("cut short"), std::string::npos) << r.error().message;
  }
  {
    FakeEngine engine("SSH-2.0-OpenSSH_9.2\r\n");
    auto r = unix_http(engine.path(), "GET", "/x", 2000ms);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("not an HTTP answer"), std::string::npos) << r.error().message;
  }
  auto r = unix_http("/tmp/faultline-no-such-socket.sock", "GET", "/_ping", 500ms);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/_ping on /tmp/faultline-no-such-socket.sock"),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace faultline::injector
