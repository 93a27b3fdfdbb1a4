// faultline's TCP fault proxy (src/proxy) on real loopback sockets: an echo server upstream,
// a client through the proxy, every toxic measured by what the client sees (bytes, delays,
// closes, resets). No privilege is needed or used.
#include "proxy/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace faultline::proxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Echoes whatever each connection sends, until the client half-closes; then closes.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
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

}  // namespace
}  // namespace faultline::proxy
