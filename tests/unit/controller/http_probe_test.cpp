// The http probe against a real HTTP server on loopback.
#include "controller/watch/http_probe.h"

#include <httplib.h>

#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace faultline::testing;

class HttpProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/ok", [](const httplib::Request&, httplib::Response& r) {
      r.set_content("ok", "text/plain");
    });
    server_.Get("/broken", [](const httplib::Request&, httplib::Response& r) { r.status = 503; });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& r) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      r.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    ASSERT_TRUE(wait_until([&] { return server_.is_running(); }, 2000ms));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  ProbeOutcome probe(const std::string& path, std::vector<int> expect = {200},
                     Duration timeout = std::chrono::seconds(2)) {
    experiments::HttpProbeSpec spec;
    spec.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    spec.expect_status = std::move(expect);
    spec.timeout = timeout;
    return HttpProbe("p", spec).run();
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttpProbeTest, ExpectedStatusPasses) {
  auto o = probe("/ok");
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.observed, "HTTP 200");
  EXPECT_GT(o.latency.count(), 0);
}

TEST_F(HttpProbeTest, UnexpectedStatusFails) {
  auto o = probe("/broken");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "HTTP 503");
  EXPECT_TRUE(probe("/broken", {500, 503}).ok);
}

TEST_F(HttpProbeTest, TimeoutFails) {
  auto o = probe("/slow", {200}, std::chrono::milliseconds(200));
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "no response (connection closed or read timed out)");
}

TEST(HttpProbe, ConnectionRefusedFails) {
  experiments::HttpProbeSpec spec;
  spec.url = "http://127.0.0.1:" + std::to_string(free_port()) + "/health";
  auto o = HttpProbe("p", spec).run();
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "connection failed (refused or unreachable)");
}

}  // namespace
}  // namespace faultline::controller
