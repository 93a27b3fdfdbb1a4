// The prometheus probe against a real Prometheus (Debian's package) on loopback, scraping a
// small exporter whose value the test sets.
#include "controller/watch/prometheus_probe.h"

#include <httplib.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace faultline::testing;

class PrometheusProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exporter_.Get("/metrics", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(
          "# TYPE fl_queue_depth gauge\nfl_queue_depth " + std::to_string(value_.load()) + "\n",
          "text/plain; version=0.0.4");
    });
    int exporter_port = exporter_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { exporter_.listen_after_bind(); });
    ASSERT_TRUE(wait_until([&] { return exporter_.is_running(); }, 2000ms));
    write_file(dir_.file("prometheus.yml"),
               "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
               "scrape_configs:\n"
               "  - job_name: app\n"
               "    static_configs: [{targets: ['127.0.0.1:" +
                   std::to_string(exporter_port) + "']}]\n");
    port_ = free_port();
    prometheus_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/prometheus",
                                 "--config.file=" + dir_.file("prometheus.yml"),
                                 "--storage.tsdb.path=" + dir_.file("data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
        dir_.file("prometheus.out"), dir_.file("prometheus.err"));
    ASSERT_TRUE(wait_until([&] { return http_ok(port_, "/-/ready"); }, 30000ms))
        << read_file(dir_.file("prometheus.err"));
  }
  void TearDown() override {
    prometheus_.reset();
    exporter_.stop();
    thread_.join();
  }
  ProbeOutcome probe(std::optional<double> min, std::optional<double> max,
                     const std::string& query = "fl_queue_depth") {
    experiments::PrometheusProbeSpec spec;
    spec.url = "http://127.0.0.1:" + std::to_string(port_);
    spec.query = query;
    spec.check.min = min;
    spec.check.max = max;
    return PrometheusProbe("queue", spec, std::chrono::seconds(2)).run();
  }
  // Prometheus sees a new value at its next scrape (every second here).
  bool sees(const std::string& observed) {
    return wait_until([&] { return probe(std::nullopt, std::nullopt).observed == observed; },
                      20000ms);
  }

  TempDir dir_;
  httplib::Server exporter_;
  std::thread thread_;
  std::atomic<int> value_{3};
  int port_ = 0;
  std::unique_ptr<ChildProcess> prometheus_;
};

TEST_F(PrometheusProbeTest, ReadsTheScrapedValueAndComparesIt) {
  ASSERT_TRUE(sees("fl_queue_depth = 3")) << probe(std::nullopt, std::nullopt).observed;
  EXPECT_TRUE(probe(std::nullopt, 5).ok);
  EXPECT_TRUE(probe(1, std::nullopt).ok);
  value_ = 9;
  ASSERT_TRUE(sees("fl_queue_depth = 9"));
  auto o = probe(std::nullopt, 5);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "9 is above the maximum 5");
  o = probe(std::nullopt, std::nullopt, "sum(fl_queue_depth) * 2");
  EXPECT_EQ(o.observed, "sum(fl_queue_depth) * 2 = 18");
  o = probe(10, std::nullopt, "scalar(fl_queue_depth)");
  EXPECT_FALSE(o.ok) << "scalar results are read too";
  EXPECT_EQ(o.observed, "9 is below the minimum 10");
}

TEST_F(PrometheusProbeTest, NoDataAndBadQueriesFail) {
  auto o = probe(std::nullopt, 5, "fl_not_exported");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.observed, "no data for fl_not_exported");
  o = probe(std::nullopt, 5, "sum(");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.observed.find("query failed: "), std::string::npos) << o.observed;
}

TEST(PrometheusProbe, UnreachableServerFails) {
  experiments::PrometheusProbeSpec spec;
  spec.url = "http://127.0.0.1:" + std::to_string(free_port());
  spec.query = "up";
  auto o = PrometheusProbe("p", spec, std::chrono::seconds(1)).run();
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.observed.find("Prometheus unreachable"), std::string::npos) << o.observed;
}

}  // namespace
}  // namespace faultline::controller
