// Every probe kind against a real server or process on loopback: HTTP (body, JSON, latency,
// headers), TCP, command, gRPC health (grpc's own health service), and retries.
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>

#include "controller/watch/http_probe.h"
#include "controller/watch/probe_factory.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace faultline::testing;
using namespace std::chrono_literals;

experiments::ProbeSpec spec_of(experiments::ProbeKind kind, Duration timeout = 2s,
                               int retries = 0) {
  experiments::ProbeSpec s;
  s.name = "p";
  s.kind = std::move(kind);
  s.timing.timeout = timeout;
  s.timing.retries = retries;
  return s;
}

ProbeOutcome run_probe(experiments::ProbeKind kind, Duration timeout = 2s, int retries = 0) {
  return make_probe(spec_of(std::move(kind), timeout, retries), {})->run();
}

class HttpChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/status", [](const httplib::Request&, httplib::Response& r) {
      r.set_content(R"({"db": {"state": "up", "lag": 3}, "replicas": [{"ok": true}]})",
                    "application/json");
    });
    server_.Get("/echo-header", [](const httplib::Request& q, httplib::Response& r) {
      r.status = q.get_header_value("X-Token") == "s3cret" ? 200 : 401;
    });
    server_.Post("/echo-body", [](const httplib::Request& q, httplib::Response& r) {
      r.set_content("got " + q.body, "text/plain");
    });
    server_.Get("/created", [](const httplib::Request&, httplib::Response& r) { r.status = 201; });
    server_.Get("/slowish", [](const httplib::Request&, httplib::Response& r) {
      std::this_thread::sleep_for(300ms);
      r.set_content("ok", "text/plain");
    });
    server_.Get("/flaky", [this](const httplib::Request&, httplib::Response& r) {
      r.status = ++flaky_calls_ % 3 == 0 ? 200 : 503;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    ASSERT_TRUE(wait_until([&] { return server_.is_running(); }, 2000ms));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  experiments::HttpProbeSpec http(const std::string& path) {
    experiments::HttpProbeSpec h;
    h.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    return h;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> flaky_calls_{0};
};

TEST_F(HttpChecks, JsonFieldIsComparedAsTextOrNumber) {
  auto h = http("/status");
  h.json_path = "db.state";
  h.json_check.equals = "up";
  auto o = run_probe(h);
  EXPECT_TRUE(o.ok) << o.observed;
  EXPECT_EQ(o.observed, "HTTP 200, db.state = up");

  h.json_check.equals = "down";
  o = run_probe(h);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "HTTP 200, db.state: \"up\" is not \"down\"");

  h.json_path = "db.lag";
  h.json_check = {};
  h.json_check.max = 2;
  o = run_probe(h);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "HTTP 200, db.lag: 3 is above the maximum 2");
  h.json_check.max = 5;
  EXPECT_TRUE(run_probe(h).ok);

  h.json_path = "replicas.0.ok";
  h.json_check = {};
  h.json_check.equals = "true";
  EXPECT_TRUE(run_probe(h).ok);
  h.json_path = "replicas.4.ok";
  o = run_probe(h);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "HTTP 200, replicas.4.ok is missing");
}

TEST_F(HttpChecks, BodyRegexHeadersAndRequestBody) {
  auto h = http("/status");
  h.body_regex = "\"state\": \"up\"";
  EXPECT_TRUE(run_probe(h).ok);
  h.body_regex = "\"state\": \"down\"";
  auto o = run_probe(h);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.observed.find("body does not match"), std::string::npos) << o.observed;

  auto auth = http("/echo-header");
  EXPECT_EQ(run_probe(auth).observed, "HTTP 401");
  auth.headers["X-Token"] = "s3cret";
  EXPECT_TRUE(run_probe(auth).ok);

  auto post = http("/echo-body");
  post.method = "POST";
  post.body = "ping";
  post.body_regex = "^got ping$";
  EXPECT_TRUE(run_probe(post).ok);
}

TEST_F(HttpChecks, StatusRangeAndLatencyThreshold) {
  auto h = http("/created");
  EXPECT_FALSE(run_probe(h).ok) << "201 is not the default 200";
  h.expect_status_range = {{200, 299}};
  EXPECT_TRUE(run_probe(h).ok);

  auto slow = http("/slowish");
  slow.max_latency = 100ms;
  auto o = run_probe(slow);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.observed.find("slower than 100ms"), std::string::npos) << o.observed;
  slow.max_latency = 5s;
  EXPECT_TRUE(run_probe(slow).ok);
}

TEST_F(HttpChecks, RetriesHideAnIsolatedFailureButNotAnOutage) {
  // The server fails two requests in three.
  auto o = run_probe(http("/flaky"), 2s, 2);
  EXPECT_TRUE(o.ok) << o.observed;
  EXPECT_EQ(o.observed, "HTTP 200 (after 2 retries)");
  auto down = http("/nowhere");
  o = run_probe(down, 2s, 3);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "HTTP 404 (after 3 retries)");
}

TEST(TcpProbe, ConnectsToAListenerAndIsRefusedWithout) {
  httplib::Server server;
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  ASSERT_TRUE(wait_until([&] { return server.is_running(); }, 2000ms));
  std::string addr = "127.0.0.1:" + std::to_string(port);
  auto o = run_probe(experiments::TcpProbeSpec{addr});
  EXPECT_TRUE(o.ok) << o.observed;
  server.stop();
  t.join();
  o = run_probe(experiments::TcpProbeSpec{addr});
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "connect: Connection refused");
}

TEST(TcpProbe, AFullBacklogTimesOut) {
  // A listener that never accepts, with its backlog filled, leaves new SYNs unanswered.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string addr = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(c);
  }
  std::this_thread::sleep_for(50ms);
  auto o = run_probe(experiments::TcpProbeSpec{addr}, 300ms);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "connect timed out after 300ms");
  for (int c : fillers) ::close(c);
  ::close(fd);
}

TEST(CommandProbe, ExitCodeOutputAndTimeout) {
  auto cmd = experiments::CommandProbeSpec{{"/bin/sh", "-c", "echo replicas=3; exit 0"}, 0, ""};
  EXPECT_TRUE(run_probe(cmd).ok);
  cmd.output_regex = "replicas=[1-9]";
  EXPECT_TRUE(run_probe(cmd).ok);
  cmd.output_regex = "replicas=0";
  auto o = run_probe(cmd);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "exit code 0, output does not match /replicas=0/");

  auto failing = experiments::CommandProbeSpec{{"/bin/sh", "-c", "exit 3"}, 0, ""};
  o = run_probe(failing);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "exit code 3 (expected 0)");
  failing.expect_exit = 3;
  EXPECT_TRUE(run_probe(failing).ok);

  auto hung = experiments::CommandProbeSpec{{"/bin/sleep", "30"}, 0, ""};
  auto start = std::chrono::steady_clock::now();
  o = run_probe(hung, 300ms);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "timed out after 300ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(GrpcHealthProbe, FollowsTheServersHealthService) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  // A sync server needs one service of its own besides the health service.
  opentelemetry::proto::collector::trace::v1::TraceService::Service app;
  builder.RegisterService(&app);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  auto* health = server->GetHealthCheckService();
  ASSERT_NE(health, nullptr);
  std::string addr = "127.0.0.1:" + std::to_string(port);
  health->SetServingStatus("orders", true);
  auto o = run_probe(experiments::GrpcHealthProbeSpec{addr, "orders", ""});
  EXPECT_TRUE(o.ok) << o.observed;
  EXPECT_EQ(o.observed, "SERVING");
  health->SetServingStatus("orders", false);
  o = run_probe(experiments::GrpcHealthProbeSpec{addr, "orders", ""});
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "NOT_SERVING");
  o = run_probe(experiments::GrpcHealthProbeSpec{addr, "payments", ""});
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.observed.find("code 5"), std::string::npos) << "NOT_FOUND: " << o.observed;
  EXPECT_TRUE(run_probe(experiments::GrpcHealthProbeSpec{addr, "", ""}).ok) << "the server";
  server->Shutdown();
  o = run_probe(experiments::GrpcHealthProbeSpec{addr, "", ""}, 500ms);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.observed.find("health check failed"), std::string::npos) << o.observed;
}

}  // namespace
}  // namespace faultline::controller
