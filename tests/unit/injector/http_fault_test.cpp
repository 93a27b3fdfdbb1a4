// http_fault against a real HTTP server (cpp-httplib) in one namespace and real clients (curl,
// and a keep-alive client) in another, through the real kernel's REDIRECT and the real
// faultline-intercept helper. Each case checks what clients see, what the helper counted, and
// that after revert nothing is left: no rules, no helper, traffic direct.
#include "injector/intercept/http_fault_backend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <future>
#include <thread>

#include "common/process_table.h"
#include "injector/network/netns.h"
#include "support/child_process.h"
#include "support/two_hosts.h"

namespace faultline::injector {
namespace {

using namespace faultline::testing;
using Clock = std::chrono::steady_clock;

// Runs `f` on a thread inside `netns`; sockets it opens live there.
template <typename F>
auto in_netns(const std::string& netns, F f) {
  using R = decltype(f());
  std::packaged_task<R()> task([&] {
    ScopedNetns in(netns);
    return f();
  });
  auto result = task.get_future();
  std::thread(std::move(task)).join();
  return result.get();
}

// A real HTTP server on host B, 10.77.0.2:8080: Node's (keep-alive, pipelining, chunked
// responses), tests/support/http_server/server.js. "/" answers "ok CLIENT_PORT".
class Server {
 public:
  explicit Server(const std::string& netns)
      : node_({"/usr/sbin/ip", "netns", "exec", netns, "node",
               std::string(FAULTLINE_SOURCE_DIR) + "/tests/support/http_server/server.js",
               "10.77.0.2", "8080"}) {
    auto until = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < until && !ready(netns))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

 private:
  static bool ready(const std::string& netns) {
    return in_netns(netns, [] {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in to = ipv4_address("10.77.0.2", 8080);
      bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
      ::close(fd);
      return ok;
    });
  }
  ChildProcess node_;
};

class HttpFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!hosts_.ok()) GTEST_SKIP() << "needs root for network namespaces";
    if (!backend_.available()) GTEST_SKIP() << "faultline-intercept not built";
    server_ = std::make_unique<Server>(hosts_.b());
  }
  void TearDown() override {
    if (applied_) {
      EXPECT_TRUE(backend_.revert(*applied_));
    }
    server_.reset();
  }

  // A fault on A's requests to B:8080 (egress), or on what B:8080 receives (ingress).
  pb::FaultSpec spec(const std::string& direction = "egress") {
    pb::FaultSpec s;
    auto* f = s.mutable_http_fault();
    f->mutable_scope()->set_netns(direction == "egress" ? hosts_.a() : hosts_.b());
    f->mutable_scope()->add_ports(8080);
    f->mutable_scope()->set_protocol("tcp");
    f->mutable_scope()->set_direction(direction);
    f->set_drain_ms(2000);
    f->set_seed(7);
    return s;
  }
  static pb::HttpRule* abort_rule(pb::FaultSpec& s, const std::string& prefix, int status) {
    auto* r = s.mutable_http_fault()->add_rules();
    r->set_path_kind("prefix");
    r->set_path(prefix);
    r->set_percent(1);
    r->set_action("abort");
    r->set_status(static_cast<uint32_t>(status));
    r->set_body("unavailable");
    auto* h = r->add_response_headers();
    h->set_name("Retry-After");
    h->set_value("1");
    return r;
  }
  void apply(const pb::FaultSpec& s) {
    auto a = backend_.apply("http-fault-test-1", s);
    ASSERT_TRUE(a) << a.error().message;
    applied_ = *a;
  }
  pb::InterceptorReport revert_and_check_clean(const std::string& netns) {
    const auto helper = applied_->state.network().helper();
    EXPECT_TRUE(backend_.revert(*applied_));
    applied_.reset();
    EXPECT_EQ(faultline_chains(netns), "");
    EXPECT_FALSE(same_process_alive(helper.pid(), helper.start_time_ticks()))
        << "the helper must be gone after revert";
    // Direct again.
    EXPECT_EQ(curl("/v1/charge"), "200 charged");
    return {};
  }
  // "STATUS BODY" of a GET from host A through curl (a new connection each time).
  std::string curl(const std::string& path, const std::string& extra = "") {
    std::string out =
        hosts_.in_a("curl -s -m 5 " + extra + " -w ' %{http_code}' http://10.77.0.2:8080" + path);
    // curl prints the body, then " CODE"
    auto space = out.rfind(' ');
    if (space == std::string::npos) return out;
    return out.substr(space + 1) + " " + out.substr(0, space);
  }

  TwoHosts hosts_;
  std::unique_ptr<Server> server_;
  HttpFaultBackend backend_;
  std::optional<AppliedFault> applied_;
};

TEST_F(HttpFault, AbortAnswersForTheServerOnMatchingPathsOnly) {
  auto s = spec();
  abort_rule(s, "/v1/charge", 503);
  apply(s);
  std::string headers = hosts_.in_a("curl -s -i -m 5 http://10.77.0.2:8080/v1/charge");
  EXPECT_NE(headers.find("HTTP/1.1 503 Service Unavailable"), std::string::npos) << headers;
  EXPECT_NE(headers.find("Retry-After: 1"), std::string::npos) << headers;
  EXPECT_NE(headers.find("unavailable"), std::string::npos) << headers;
  EXPECT_EQ(curl("/v1/quote"), "200 quote");
  EXPECT_EQ(curl("/v1/charge"), "503 unavailable");
  std::string report = backend_.achieved(*applied_);
  EXPECT_NE(report.find("3 requests (2 matched a rule): 2 aborted, 1 passed"), std::string::npos)
      << report;
  revert_and_check_clean(hosts_.a());
}

// curl --http2 on http:// asks the server to upgrade to h2c; one that speaks only HTTP/1 answers
// as usual and the connection goes on in HTTP/1. Its later requests must be faulted too (the
// interceptor used to pass the rest of such a connection through uninspected).
TEST_F(HttpFault, ADeclinedUpgradeLeavesTheConnectionInspected) {
  auto s = spec();
  abort_rule(s, "/v1/charge", 503);
  apply(s);
  std::string out = hosts_.in_a(
      "curl -s --http2 -m 5 -w ' %{http_code} %{num_connects}\\n' "
      "http://10.77.0.2:8080/v1/quote http://10.77.0.2:8080/v1/charge");
  EXPECT_EQ(out, "quote 200 1\nunavailable 503 0\n") << "the second request reuses the connection";
  std::string report = backend_.achieved(*applied_);
  EXPECT_NE(report.find("2 requests (1 matched a rule): 1 aborted, 1 passed"), std::string::npos)
      << report;
  revert_and_check_clean(hosts_.a());
}

TEST_F(HttpFault, DelayReplaceAndResetDoWhatTheySay) {
  auto s = spec();
  auto* delay = s.mutable_http_fault()->add_rules();
  delay->set_path_kind("exact");
  delay->set_path("/");
  delay->set_percent(1);
  delay->set_action("delay");
  delay->set_delay_us(300000);
  auto* replace = s.mutable_http_fault()->add_rules();
  replace->set_path_kind("glob");
  replace->set_path("/v1/*");
  *replace->add_methods() = "GET";
  auto* h = replace->add_headers();
  h->set_name("x-tenant");
  h->set_value("acme");
  replace->set_percent(1);
  replace->set_action("replace");
  replace->set_status(200);
  replace->set_body("{}");
  replace->set_has_body(true);
  auto* reset = s.mutable_http_fault()->add_rules();
  reset->set_path_kind("regex");
  reset->set_path("^/v1/ch");
  reset->set_percent(1);
  reset->set_action("reset");
  apply(s);

  auto t0 = Clock::now();
  EXPECT_EQ(curl("/").substr(0, 6), "200 ok");
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_GE(ms, 300);
  EXPECT_LT(ms, 2000);
  // Replaced only with the header; the server's own headers stay.
  std::string replaced =
      hosts_.in_a("curl -s -i -m 5 -H 'X-Tenant: acme' http://10.77.0.2:8080/v1/quote");
  EXPECT_NE(replaced.find("HTTP/1.1 200 OK"), std::string::npos) << replaced;
  EXPECT_NE(replaced.find("X-Upstream: yes"), std::string::npos) << replaced;
  EXPECT_NE(replaced.find("Content-Length: 2"), std::string::npos) << replaced;
  EXPECT_EQ(replaced.substr(replaced.size() - 2), "{}") << replaced;
  EXPECT_EQ(curl("/v1/quote"), "200 quote");
  // Reset: curl sees the connection reset (exit 56).
  std::string rc = hosts_.in_a("sh -c 'curl -s -m 5 http://10.77.0.2:8080/v1/charge; echo rc=$?'");
  EXPECT_NE(rc.find("rc=56"), std::string::npos) << rc;
  std::string report = backend_.achieved(*applied_);
  EXPECT_NE(report.find("1 delayed, 1 replaced, 1 reset, 1 passed"), std::string::npos) << report;
  revert_and_check_clean(hosts_.a());
}

TEST_F(HttpFault, IngressFaultsWhatTheServiceReceives) {
  auto s = spec("ingress");
  abort_rule(s, "/v1/charge", 429);
  apply(s);
  EXPECT_EQ(curl("/v1/charge"), "429 unavailable");
  EXPECT_EQ(curl("/v1/quote"), "200 quote");
  // Local callers inside B too.
  std::string local =
      hosts_.in_b("curl -s -m 5 -w ' %{http_code}' http://10.77.0.2:8080/v1/charge");
  EXPECT_EQ(local, "unavailable 429");
  revert_and_check_clean(hosts_.b());
  EXPECT_EQ(faultline_chains(hosts_.a()), "");
}

TEST_F(HttpFault, PercentIsDrawnPerRequestOnOneKeepAliveConnection) {
  auto s = spec();
  abort_rule(s, "/v1/charge", 503)->set_percent(0.2);
  apply(s);
  const int n = 1000;
  int aborted = 0, ok = 0, errors = 0;
  in_netns(hosts_.a(), [&] {
    httplib::Client c("10.77.0.2", 8080);
    c.set_keep_alive(true);
    for (int i = 0; i < n; ++i) {
      auto r = c.Get("/v1/charge");
      if (!r) {
        ++errors;
        std::cerr << "request " << i << " failed: " << httplib::to_string(r.error()) << "\n";
      } else if (r->status == 503)
        ++aborted;
      else if (r->status == 200)
        ++ok;
    }
    return 0;
  });
  EXPECT_EQ(errors, 0) << backend_.achieved(*applied_);
  EXPECT_EQ(aborted + ok, n);
  double sigma = std::sqrt(n * 0.2 * 0.8);
  EXPECT_NEAR(aborted, n * 0.2, 3 * sigma) << "aborted " << aborted << " of " << n;
}

TEST_F(HttpFault, KeepAliveConnectionsOpenBeforeTheFaultAreRetiredAndThenFaulted) {
  httplib::Client* client = nullptr;
  auto get = [&](const std::string& path) {
    return in_netns(hosts_.a(), [&] { return client->Get(path); });
  };
  in_netns(hosts_.a(), [&] {
    client = new httplib::Client("10.77.0.2", 8080);
    client->set_keep_alive(true);
    return 0;
  });
  std::unique_ptr<httplib::Client> owned(client);
  auto before = get("/");
  ASSERT_TRUE(before);
  auto s = spec();
  abort_rule(s, "/v1/charge", 503);
  apply(s);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // idle: retired within ms
  int errors = 0, aborted = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = get("/v1/charge");
    if (!r)
      ++errors;
    else if (r->status == 503)
      ++aborted;
  }
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(aborted, 20) << "every request after the fault began is faulted";
  auto after = get("/");
  ASSERT_TRUE(after);
  EXPECT_NE(after->body, before->body) << "the old connection was retired: a new client port";
  std::string report = backend_.achieved(*applied_);
  EXPECT_NE(report.find("1 earlier keep-alive connection retired"), std::string::npos) << report;
  revert_and_check_clean(hosts_.a());
}

TEST_F(HttpFault, PipelinedRequestsAreAnsweredInOrderWithTheMiddleOneAborted) {
  auto s = spec();
  abort_rule(s, "/v1/charge", 503);
  apply(s);
  std::string got = in_netns(hosts_.a(), [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to = ipv4_address("10.77.0.2", 8080);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return out;
    std::string three =
        "GET /v1/quote HTTP/1.1\r\nHost: b\r\n\r\n"
        "GET /v1/charge HTTP/1.1\r\nHost: b\r\n\r\n"
        "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
    ::send(fd, three.data(), three.size(), MSG_NOSIGNAL);
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  });
  size_t quote = got.find("quote"), unavailable = got.find("unavailable"), ok = got.rfind("ok ");
  ASSERT_NE(quote, std::string::npos) << got;
  ASSERT_NE(unavailable, std::string::npos) << got;
  ASSERT_NE(ok, std::string::npos) << got;
  EXPECT_LT(quote, unavailable);
  EXPECT_LT(unavailable, ok);
  revert_and_check_clean(hosts_.a());
}

TEST_F(HttpFault, RevertLetsDelayedRequestsFinish) {
  auto s = spec();
  auto* delay = s.mutable_http_fault()->add_rules();
  delay->set_percent(1);
  delay->set_action("delay");
  delay->set_delay_us(5'000'000);
  apply(s);
  auto pending = std::async(std::launch::async, [&] {
    return hosts_.in_a("curl -s -i -m 5 http://10.77.0.2:8080/v1/quote");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto t0 = Clock::now();
  revert_and_check_clean(hosts_.a());
  std::string got = pending.get();
  EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 5), "quote") << "held requests go on when the fault ends";
  // Its connection's last answer says so, so the client's next request goes direct.
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_EQ(got.find("keep-alive"), std::string::npos) << got;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(HttpFault, AKilledHelperTakesTheInterceptionWithItAtOnce) {
  auto s = spec();
  abort_rule(s, "/v1/charge", 503);
  apply(s);
  EXPECT_EQ(curl("/v1/charge"), "503 unavailable");
  ::kill(applied_->state.network().helper().pid(), SIGKILL);
  auto until = Clock::now() + std::chrono::seconds(5);
  while (faultline_chains(hosts_.a()) != "" && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(faultline_chains(hosts_.a()), "");
  EXPECT_EQ(curl("/v1/charge"), "200 charged") << "direct again, not refused";
  EXPECT_NE(backend_.achieved(*applied_).find("no report from the interceptor"), std::string::npos);
  revert_and_check_clean(hosts_.a());
}

// Bytes sent on one connection from host A to 10.77.0.2:8080, and everything that comes back
// until the server's side closes (or 3 s pass).
std::string send_and_read(const std::string& netns, const std::string& bytes) {
  return in_netns(netns, [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to = ipv4_address("10.77.0.2", 8080);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
      timeval tv{3, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  });
}

TEST_F(HttpFault, AnAbortedHeadRequestGetsTheHeadAloneAndAResetWaitsForEarlierAnswers) {
  auto s = spec();
  abort_rule(s, "/v1/charge", 503);
  auto* reset = s.mutable_http_fault()->add_rules();
  reset->set_path_kind("exact");
  reset->set_path("/v1/cancel");
  reset->set_percent(1);
  reset->set_action("reset");
  apply(s);
  // HEAD: the fields a GET would get (Content-Length of the body) and no body, so the next
  // answer on the connection is read from the right place.
  std::string got = send_and_read(hosts_.a(),
                                  "HEAD /v1/charge HTTP/1.1\r\nHost: b\r\n\r\n"
                                  "GET /v1/quote HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(got.find("unavailable"), std::string::npos) << got;
  EXPECT_NE(got.find("HTTP/1.1 503"), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Length: 11"), std::string::npos) << got;
  EXPECT_NE(got.find("quote"), std::string::npos) << got;
  // A reset pipelined behind a request that passes: that answer arrives first.
  got = send_and_read(hosts_.a(),
                      "GET /v1/quote HTTP/1.1\r\nHost: b\r\n\r\n"
                      "GET /v1/cancel HTTP/1.1\r\nHost: b\r\n\r\n");
  EXPECT_NE(got.find("quote"), std::string::npos) << got;
  revert_and_check_clean(hosts_.a());
}

TEST_F(HttpFault, AClientThatNeverReadsCannotGrowTheHelper) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine keeps freed memory resident: the helper's RSS says nothing here.
  GTEST_SKIP() << "RSS is not meaningful under AddressSanitizer";
#endif
  auto s = spec();
  abort_rule(s, "/", 503);
  apply(s);
  const pid_t helper = applied_->state.network().helper().pid();
  auto rss_kib = [&] {
    std::string status = read_file("/proc/" + std::to_string(helper) + "/status");
    auto at = status.find("VmRSS:");
    return at == std::string::npos ? 0L : std::stol(status.substr(at + 6));
  };
  long before = rss_kib();
  // 200,000 pipelined requests (~7 MB) whose ~20 MB of answers are never read.
  in_netns(hosts_.a(), [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to = ipv4_address("10.77.0.2", 8080);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return 0;
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string chunk;
    for (int i = 0; i < 1000; ++i) chunk += "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
    for (int i = 0; i < 200; ++i)
      if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;  // held back
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_LT(rss_kib() - before, 8 * 1024) << "the helper buffered what the client sent";
    ::close(fd);
    return 0;
  });
  revert_and_check_clean(hosts_.a());
}

// TLS termination: the helper answers with the certificate the fault names (curl checks it
// against that certificate as its CA), faults the decrypted requests, and re-encrypts the rest
// to the real HTTPS server, asking for the name the client asked for.
TEST_F(HttpFault, TlsIsTerminatedWithTheGivenCertificateAndForwardedEncrypted) {
  if (capture("command -v openssl") == "") GTEST_SKIP() << "openssl not installed";
  TempDir dir;
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  ASSERT_EQ(capture("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-days 1 -subj /CN=payments.test "
                    "-addext subjectAltName=DNS:payments.test,IP:10.77.0.2 -keyout " +
                    key + " -out " + cert + " >/dev/null 2>&1; echo $?"),
            "0\n");
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  ChildProcess https({"/usr/sbin/ip", "netns", "exec", hosts_.b(), "node",
                      std::string(FAULTLINE_SOURCE_DIR) + "/tests/support/http_server/server.js",
                      "10.77.0.2", "8443", cert, key});
  auto get = [&](const std::string& path) {
    std::string out = hosts_.in_a("curl -s -m 5 --cacert " + cert +
                                  " --resolve payments.test:8443:10.77.0.2 -w ' %{http_code}' "
                                  "https://payments.test:8443" +
                                  path);
    auto space = out.rfind(' ');
    return space == std::string::npos ? out : out.substr(space + 1) + " " + out.substr(0, space);
  };
  ASSERT_TRUE(wait_until([&] { return get("/v1/quote") == "200 quote"; }, 10000ms));
  pb::FaultSpec s = spec();
  s.mutable_http_fault()->mutable_scope()->set_ports(0, 8443);
  abort_rule(s, "/v1/charge", 503);
  s.mutable_http_fault()->mutable_tls()->set_certificate(cert);
  s.mutable_http_fault()->mutable_tls()->set_key(key);
  apply(s);
  EXPECT_EQ(get("/v1/charge"), "503 unavailable");
  EXPECT_EQ(get("/v1/quote"), "200 quote") << "re-encrypted to the real server";
  EXPECT_EQ(get("/v1/charge"), "503 unavailable");
  const auto helper = applied_->state.network().helper();
  // Closed connections leave no relay behind busy-waiting on a hung-up socket.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const double busy = cpu_seconds(helper.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LT(cpu_seconds(helper.pid()) - busy, 0.05) << "the helper spins while idle";
  auto report = backend_.achieved(*applied_);
  EXPECT_NE(report.find("3 over TLS (terminated)"), std::string::npos) << report;
  EXPECT_TRUE(backend_.revert(*applied_));
  applied_.reset();
  EXPECT_EQ(faultline_chains(hosts_.a()), "");
  EXPECT_FALSE(same_process_alive(helper.pid(), helper.start_time_ticks()));
  EXPECT_EQ(get("/v1/charge"), "200 charged") << "direct again";
}

// The key is read by the root injector from a path a remote submission names: only a regular
// root-owned file that others can neither write nor (for the key) read, never through a link.
TEST(HttpFaultTls, KeyAndCertificateFilesAreCheckedBeforeTheyAreRead) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to own the files";
  TempDir dir;
  const std::string key = dir.file("key.pem"), link = dir.file("link.pem");
  write_file(key, "-----BEGIN PRIVATE KEY-----\n");
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  auto readable = read_tls_file(key, true);
  ASSERT_FALSE(readable);
  EXPECT_NE(readable.error().message.find("others can read"), std::string::npos)
      << readable.error().message;
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  EXPECT_TRUE(read_tls_file(key, true));
  ASSERT_EQ(::symlink(key.c_str(), link.c_str()), 0);
  EXPECT_FALSE(read_tls_file(link, true)) << "never through a symbolic link";
  ASSERT_EQ(::chmod(key.c_str(), 0666), 0);
  auto writable = read_tls_file(key, false);
  ASSERT_FALSE(writable);
  EXPECT_NE(writable.error().message.find("writable by group or others"), std::string::npos);
  EXPECT_FALSE(read_tls_file(dir.path(), false)) << "a directory";
  EXPECT_FALSE(read_tls_file("relative.pem", false));
}

}  // namespace
}  // namespace faultline::injector
