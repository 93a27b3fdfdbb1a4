// The metrics registry and its Prometheus text format (0.0.4), and the /metrics server on a
// real loopback socket.
#include <httplib.h>

#include <thread>

#include <gtest/gtest.h>

#include "common/metrics/metrics_server.h"
#include "common/metrics/registry.h"
#include "common/metrics/text_format.h"

namespace faultline::metrics {
namespace {

TEST(MetricsText, CounterAndGaugeWithHelpTypeAndLabels) {
  Registry r;
  auto& runs = r.counter("fl_runs_total", "Runs ended.", {"verdict"});
  runs.with({"passed"}).inc();
  runs.with({"passed"}).inc(2);
  runs.with({"failed"}).inc();
  r.gauge("fl_active", "Active things.").get().set(-1.5);
  EXPECT_EQ(r.render(),
            "# HELP fl_active Active things.\n"
            "# TYPE fl_active gauge\n"
            "fl_active -1.5\n"
            "# HELP fl_runs_total Runs ended.\n"
            "# TYPE fl_runs_total counter\n"
            "fl_runs_total{verdict=\"passed\"} 3\n"
            "fl_runs_total{verdict=\"failed\"} 1\n");
}

TEST(MetricsText, UnlabelledSeriesExistAtZeroAndLabelledOnesOnFirstUse) {
  Registry r;
  r.counter("fl_plain_total", "Plain.");
  r.counter("fl_labelled_total", "Labelled.", {"kind"});
  EXPECT_EQ(r.render(),
            "# HELP fl_labelled_total Labelled.\n# TYPE fl_labelled_total counter\n"
            "# HELP fl_plain_total Plain.\n# TYPE fl_plain_total counter\nfl_plain_total 0\n");
}

TEST(MetricsText, EscapesLabelValuesAndHelp) {
  Registry r;
  r.gauge("fl_g", "Says \\ and\nmore \"quoted\".", {"path"}).with({"C:\\dir\n\"x\""}).set(1);
  EXPECT_EQ(r.render(),
            "# HELP fl_g Says \\\\ and\\nmore \"quoted\".\n"
            "# TYPE fl_g gauge\n"
            "fl_g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(MetricsText, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto& h = r.histogram("fl_apply_seconds", "Apply latency.", {0.01, 0.1, 1}, {"kind"});
  Histogram& pause = h.with({"process_pause"});
  pause.observe(0.005);
  pause.observe(0.01);  // on a bound: "le" includes it
  pause.observe(0.5);
  pause.observe(std::chrono::seconds(3));
  pause.observe(std::nan(""));  // ignored
  EXPECT_EQ(r.render(),
            "# HELP fl_apply_seconds Apply latency.\n"
            "# TYPE fl_apply_seconds histogram\n"
            "fl_apply_seconds_bucket{kind=\"process_pause\",le=\"0.01\"} 2\n"
            "fl_apply_seconds_bucket{kind=\"process_pause\",le=\"0.1\"} 2\n"
            "fl_apply_seconds_bucket{kind=\"process_pause\",le=\"1\"} 3\n"
            "fl_apply_seconds_bucket{kind=\"process_pause\",le=\"+Inf\"} 4\n"
            "fl_apply_seconds_sum{kind=\"process_pause\"} 3.515\n"
            "fl_apply_seconds_count{kind=\"process_pause\"} 4\n");
}

TEST(MetricsText, ValuesUseShortestRoundTripAndPrometheusSpecials) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1.7e9 + 0.25), "1700000000.25");
  EXPECT_EQ(format_value(1e300), "1e+300");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(MetricsRegistry, SameDefinitionIsSharedAndConflictsAreRefused) {
  Registry r;
  auto& a = r.counter("fl_x_total", "X.", {"kind"});
  EXPECT_EQ(&a, &r.counter("fl_x_total", "X.", {"kind"}));
  EXPECT_THROW(r.gauge("fl_x_total", "X."), std::invalid_argument);
  EXPECT_THROW(r.counter("fl_x_total", "X.", {"other"}), std::invalid_argument);
  r.histogram("fl_h", "H.", {1, 2});
  EXPECT_NO_THROW(r.histogram("fl_h", "H.", {1, 2}));
  EXPECT_THROW(r.histogram("fl_h", "H.", {1, 3}), std::invalid_argument);
  EXPECT_THROW(r.counter("1bad", "."), std::invalid_argument);
  EXPECT_THROW(r.counter("fl_y", ".", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("fl_z", ".", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("fl_w", ".", {2, 1}), std::invalid_argument);
  EXPECT_THROW(a.with({"a", "b"}), std::invalid_argument);
  auto cb = r.gauge_callback("fl_cb", "C.", [] { return 1.0; });
  EXPECT_THROW(r.counter("fl_cb", "C."), std::invalid_argument);
}

TEST(MetricsRegistry, LabelCardinalityIsBounded) {
  Registry r;
  auto& f = r.counter("fl_many_total", "Many.", {"id"});
  for (size_t i = 0; i < Family<Counter>::kMaxSeries + 50; ++i) f.with({std::to_string(i)}).inc();
  std::string text = r.render();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2 + Family<Counter>::kMaxSeries + 1);
  EXPECT_NE(text.find("fl_many_total{id=\"other\"} 50\n"), std::string::npos);
}

TEST(MetricsRegistry, CallbackGaugesSumAndStopWithTheirHandle) {
  Registry r;
  double a = 2, b = 3;
  auto ha = r.gauge_callback("fl_connected", "Connected.", [&] { return a; });
  {
    auto hb = r.gauge_callback("fl_connected", "Connected.", [&] { return b; });
    EXPECT_NE(r.render().find("fl_connected 5\n"), std::string::npos) << r.render();
  }
  EXPECT_NE(r.render().find("fl_connected 2\n"), std::string::npos);
  CallbackGauge moved = std::move(ha);
  a = 7;
  EXPECT_NE(r.render().find("fl_connected 7\n"), std::string::npos);
  moved.reset();
  EXPECT_EQ(r.render().find("fl_connected"), std::string::npos);
}

TEST(MetricsRegistry, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& c = r.counter("fl_c_total", "C.", {"t"});
  auto& h = r.histogram("fl_h_seconds", "H.", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      Counter& mine = c.with({"x"});
      for (int i = 0; i < 10000; ++i) {
        mine.inc();
        h.get().observe(i % 2 ? 0.25 : 1.0);
        if (i % 1000 == 0) (void)r.render();  // scrapes race with updates
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.with({"x"}).value(), 40000);
  auto s = h.get().snapshot();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative[0], 20000u);
  EXPECT_DOUBLE_EQ(s.sum, 20000 * 0.25 + 20000 * 1.0);
}

TEST(MetricsListenAddress, ParsesHostPortAndRejectsWithReason) {
  auto a = parse_listen_address("127.0.0.1:9464");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  a = parse_listen_address("[::1]:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  struct Bad {
    const char* text;
    const char* why;
  };
  for (const Bad& b :
       {Bad{"9464", "no port"}, Bad{":9464", "no host"}, Bad{"localhost:http", "is not a number"},
        Bad{"h:70000", "0 to 65535"}, Bad{"h:-1", "0 to 65535"}, Bad{"::1:80", "needs brackets"},
        Bad{"[::1]80", "no port after"}, Bad{"h:", "is not a number"}}) {
    auto r = parse_listen_address(b.text);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.error().message.find(b.why), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("expected HOST:PORT"), std::string::npos);
  }
}

TEST(MetricsServer, ServesTheRegistryAndRefusesABusyPort) {
  Registry r;
  r.counter("fl_served_total", "Served.").get().inc(4);
  auto server = MetricsServer::start("127.0.0.1:0", r);
  ASSERT_TRUE(server.ok()) << server.error().message;
  int port = (*server)->port();
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("fl_served_total 4\n"), std::string::npos) << res->body;
  EXPECT_EQ(client.Get("/other")->status, 404);

  auto busy = MetricsServer::start("127.0.0.1:" + std::to_string(port), r);
  ASSERT_FALSE(busy.ok()) << "a second server shared the port";
  EXPECT_EQ(busy.error().message, "cannot listen on 127.0.0.1:" + std::to_string(port) + ": port " +
                                      std::to_string(port) + " is already in use");
  auto nohost = MetricsServer::start("no-such-host.invalid:0", r);
  ASSERT_FALSE(nohost.ok());
  EXPECT_NE(nohost.error().message.find("cannot resolve host \"no-such-host.invalid\""),
            std::string::npos)
      << nohost.error().message;

  server->reset();  // stops: the port is free again
  EXPECT_FALSE(httplib::Client("127.0.0.1", port).Get("/metrics"));
}

}  // namespace
}  // namespace faultline::metrics
