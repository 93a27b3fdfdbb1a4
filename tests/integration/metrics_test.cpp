// The daemons' /metrics endpoints, scraped by a real Prometheus (Debian's package) after a real
// experiment ran through a real controller and injector on loopback.
#include <httplib.h>

#include <optional>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"

namespace faultline::testing {
namespace {

const std::string kBin = FAULTLINE_BIN_DIR;

class Metrics : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("FAULTLINE_STATE_DIR", dir_.path().c_str(), 1);
    setenv("FAULTLINE_INSECURE", "1", 1);
  }

  // The port a daemon logged for its metrics endpoint ("metrics listening ... port=N"), or 0.
  int logged_metrics_port(const std::string& log) {
    int port = 0;
    wait_until(
        [&] {
          std::smatch m;
          std::string text = read_file(dir_.file(log));
          static const std::regex re("metrics listening address=\\S+ port=(\\d+)");
          if (std::regex_search(text, m, re)) port = std::stoi(m[1]);
          return port != 0;
        },
        10000ms);
    return port;
  }

  // A PromQL instant query against the test's Prometheus: the first sample's value, if any.
  std::optional<double> query(const std::string& promql) {
    httplib::Client c("127.0.0.1", prometheus_port_);
    c.set_read_timeout(2, 0);
    auto res = c.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
    if (!res || res->status != 200) return std::nullopt;
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (body.is_discarded() || body["status"] != "success") return std::nullopt;
    const auto& result = body["data"]["result"];
    if (!result.is_array() || result.empty()) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

  // Waits until Prometheus has scraped a value of `promql` that passes `want`.
  bool eventually(const std::string& promql, const std::function<bool(double)>& want) {
    return wait_until(
        [&] {
          auto v = query(promql);
          last_ = v ? std::to_string(*v) : "no data";
          return v && want(*v);
        },
        20000ms);
  }

  TempDir dir_;
  int prometheus_port_ = 0;
  std::string last_;
};

TEST_F(Metrics, PrometheusScrapesControllerAndInjector) {
  int demo_port = free_port();
  std::string pidfile = dir_.file("demo.pid");
  ChildProcess demo({kBin + "/faultline-demo", "serve", "--port", std::to_string(demo_port),
                     "--pidfile", pidfile});
  ASSERT_TRUE(wait_until([&] { return http_ok(demo_port); }, 5000ms));

  std::string addr = "127.0.0.1:" + std::to_string(free_port());
  ChildProcess controller({kBin + "/faultline-controller", "--listen", addr, "--otlp-listen", "off",
                           "--insecure", "--metrics-listen", "127.0.0.1:0"},
                          "", dir_.file("controller.log"));
  ChildProcess injector({kBin + "/faultline-injector", "--insecure", "--controller", addr, "--node",
                         "node-a", "--metrics-listen", "127.0.0.1:0"},
                        "", dir_.file("injector.log"));
  int controller_metrics = logged_metrics_port("controller.log");
  int injector_metrics = logged_metrics_port("injector.log");
  ASSERT_NE(controller_metrics, 0) << read_file(dir_.file("controller.log"));
  ASSERT_NE(injector_metrics, 0) << read_file(dir_.file("injector.log"));
  // Registered: the controller's own endpoint says so.
  ASSERT_TRUE(wait_until(
      [&] {
        auto res = httplib::Client("127.0.0.1", controller_metrics).Get("/metrics");
        return res &&
               res->body.find("faultline_controller_injectors_connected 1\n") != std::string::npos;
      },
      10000ms))
      << read_file(dir_.file("injector.log"));

  // A short pause of the demo, with an HTTP steady-state probe, through the daemons.
  write_file(dir_.file("exp.yaml"),
             "apiVersion: faultline/v1\nkind: Experiment\nmetadata:\n  name: metrics-pause\n"
             "targets:\n  demo:\n    process:\n      pidfile: " +
                 pidfile +
                 "\nsteady_state:\n  - name: up\n    http:\n      url: http://127.0.0.1:" +
                 std::to_string(demo_port) +
                 "/health\n      timeout: 1s\nfaults:\n  - name: freeze\n    kind: process_pause\n"
                 "    target: demo\n    duration: 300ms\n");
  ChildProcess run({kBin + "/faultline", "run", dir_.file("exp.yaml"), "--controller", addr},
                   dir_.file("run.out"), dir_.file("run.err"));
  ASSERT_EQ(run.wait(60000ms), 0) << read_file(dir_.file("run.out"))
                                  << read_file(dir_.file("run.err"));
  EXPECT_NE(process_state(std::stoi(read_file(pidfile))), 'T') << "the demo was left paused";

  prometheus_port_ = free_port();
  write_file(dir_.file("prometheus.yml"),
             "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
             "scrape_configs:\n"
             "  - job_name: controller\n"
             "    static_configs: [{targets: ['127.0.0.1:" +
                 std::to_string(controller_metrics) +
                 "']}]\n"
                 "  - job_name: injector\n"
                 "    static_configs: [{targets: ['127.0.0.1:" +
                 std::to_string(injector_metrics) + "']}]\n");
  ChildProcess prometheus({"/usr/bin/prometheus", "--config.file=" + dir_.file("prometheus.yml"),
                           "--storage.tsdb.path=" + dir_.file("tsdb"),
                           "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_)},
                          dir_.file("prometheus.out"), dir_.file("prometheus.err"));
  ASSERT_TRUE(wait_until([&] { return http_ok(prometheus_port_, "/-/ready"); }, 30000ms))
      << read_file(dir_.file("prometheus.err"));

  // Both targets scraped and healthy: the text format parsed (a format error makes up 0).
  EXPECT_TRUE(eventually("up{job=\"controller\"}", [](double v) { return v == 1; })) << last_;
  EXPECT_TRUE(eventually("up{job=\"injector\"}", [](double v) { return v == 1; })) << last_;
  EXPECT_TRUE(eventually("faultline_controller_runs_total{verdict=\"passed\"}", [](double v) {
    return v >= 1;
  })) << last_;
  EXPECT_TRUE(eventually("faultline_controller_runs_active", [](double v) { return v == 0; }))
      << last_;
  EXPECT_TRUE(
      eventually("faultline_controller_fault_apply_duration_seconds_count{kind=\"process_pause\"}",
                 [](double v) { return v >= 1; }))
      << last_;
  EXPECT_TRUE(
      eventually("faultline_controller_fault_revert_duration_seconds_count{kind=\"process_pause\"}",
                 [](double v) { return v >= 1; }))
      << last_;
  EXPECT_TRUE(eventually("faultline_controller_faults_active{kind=\"process_pause\"}",
                         [](double v) { return v == 0; }))
      << last_;
  EXPECT_TRUE(eventually("faultline_controller_injectors_connected", [](double v) {
    return v == 1;
  })) << last_;
  EXPECT_TRUE(eventually("faultline_controller_probe_duration_seconds_count{kind=\"http\"}",
                         [](double v) { return v >= 1; }))
      << last_;
  // The injector's side of the same fault: applied once, held no more.
  EXPECT_TRUE(
      eventually("faultline_injector_fault_apply_duration_seconds_count{kind=\"process_pause\"}",
                 [](double v) { return v >= 1; }))
      << last_;
  EXPECT_TRUE(eventually("faultline_injector_faults_active{kind=\"process_pause\"}", [](double v) {
    return v == 0;
  })) << last_;
  EXPECT_TRUE(eventually("faultline_injector_controller_connected", [](double v) {
    return v == 1;
  })) << last_;
  EXPECT_TRUE(eventually("sum(faultline_injector_lease_expiries_total)", [](double v) {
    return v == 0;
  })) << last_;
  // A histogram Prometheus can compute with: the apply's latency is below the top bucket.
  EXPECT_TRUE(
      eventually("histogram_quantile(0.5, faultline_injector_fault_apply_duration_seconds_bucket)",
                 [](double v) { return v > 0 && v <= 30; }))
      << last_;
}

TEST_F(Metrics, BadAddressOrBusyPortStopsTheDaemonAtStart) {
  ChildProcess bad({kBin + "/faultline-injector", "--insecure", "--controller", "127.0.0.1:1",
                    "--metrics-listen", "localhost"},
                   "", dir_.file("bad.log"));
  EXPECT_EQ(bad.wait(10000ms), 3);
  EXPECT_NE(read_file(dir_.file("bad.log"))
                .find("--metrics-listen: \"localhost\": no port (expected HOST:PORT"),
            std::string::npos)
      << read_file(dir_.file("bad.log"));

  // A port held by another listener: the controller refuses to start rather than share it.
  httplib::Server holder;
  int port = holder.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  ChildProcess busy({kBin + "/faultline-controller", "--listen",
                     "127.0.0.1:" + std::to_string(free_port()), "--otlp-listen", "off",
                     "--insecure", "--metrics-listen", "127.0.0.1:" + std::to_string(port)},
                    "", dir_.file("busy.log"));
  EXPECT_EQ(busy.wait(10000ms), 3);
  EXPECT_NE(read_file(dir_.file("busy.log"))
                .find("--metrics-listen: cannot listen on 127.0.0.1:" + std::to_string(port) +
                      ": port " + std::to_string(port) + " is already in use"),
            std::string::npos)
      << read_file(dir_.file("busy.log"));
}

}  // namespace
}  // namespace faultline::testing
