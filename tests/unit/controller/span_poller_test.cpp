// Trace SLIs read from tracing backends users already run. Zipkin: spans written by the real
// OpenTelemetry JS SDK's Zipkin exporter into a small Zipkin-API server (tests/support); Jaeger:
// a query-API answer in the documented /api/traces format.
#include "controller/watch/traces/span_poller.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/time_util.h"
#include "controller/watch/traces/traces_probe.h"
#include "support/child_process.h"
#include "support/mini_zipkin.h"

namespace faultline::controller {
namespace {

using namespace faultline::testing;
using namespace std::chrono_literals;

experiments::SpanSource source(experiments::SpanSource::Kind kind, const std::string& url) {
  experiments::SpanSource s;
  s.kind = kind;
  s.url = url;
  s.poll_interval = 60s;  // the tests poll by hand
  return s;
}

// Sends spans with the JS SDK's Zipkin exporter; true when it reported success.
bool send_zipkin(const MiniZipkin& zipkin, const std::string& args, std::string& output) {
  TempDir dir;
  std::string cmd = "node " FAULTLINE_SOURCE_DIR "/tests/support/otel_js/send_spans.js --zipkin " +
                    zipkin.url() + "/api/v2/spans " + args + " >" + dir.file("out") + " 2>&1";
  int rc = std::system(cmd.c_str());
  output = read_file(dir.file("out"));
  return rc == 0;
}

TEST(SpanPoller, ZipkinSpansFromTheOtelSdkFeedTheSliOnceEach) {
  MiniZipkin zipkin;
  std::string out;
  ASSERT_TRUE(send_zipkin(zipkin,
                          "--service Checkout --span 'POST /pay' --count 120 --error-every 4 "
                          "--http-status-500-every 10 --latency-ms 30",
                          out))
      << out;
  ASSERT_EQ(zipkin.spans_stored(), 120u);
  SliStore store;
  SpanPoller poller(source(experiments::SpanSource::Kind::kZipkin, zipkin.url()), store);
  poller.watch("Checkout", "", 60s);  // polls once at once
  poller.watch("Checkout", "POST /pay", 60s);
  EXPECT_EQ(poller.last_error(), "");
  SpanStats all = store.stats("Checkout", "", 60s);
  EXPECT_EQ(all.count, 120u);
  // Every 4th is an error status, every 10th a 500; both every 20th: 30 + 12 - 6.
  EXPECT_EQ(all.errors, 36u);
  EXPECT_NEAR(all.latency.quantile_us(0.5), 30000, 30000 * 0.05);
  EXPECT_EQ(store.stats("Checkout", "POST /pay", 60s).count, 120u);

  // The next poll reaches back over the same spans: none counts twice; new ones do.
  ASSERT_TRUE(send_zipkin(zipkin, "--service Checkout --count 10", out)) << out;
  poller.poll_once();
  EXPECT_EQ(store.stats("Checkout", "", 60s).count, 130u);
  EXPECT_EQ(store.stats("Checkout", "", 60s).errors, 36u);
}

// Issue 19 item 1: the span pollers dialled whatever the URL's name resolved to at each poll;
// they now ask the run's destination guard every time and dial the address it checked.
TEST(SpanPoller, EveryPollAsksTheRunsDestinationGuard) {
  MiniZipkin zipkin;
  std::string out;
  ASSERT_TRUE(send_zipkin(zipkin, "--service Checkout --count 5", out)) << out;
  SliStore store;
  auto denied = std::make_shared<DestinationGuard>(HostRules{{}, {"127.0.0.0/8"}}, "p.yaml");
  SpanPoller poller(source(experiments::SpanSource::Kind::kZipkin, zipkin.url()), store, denied);
  poller.watch("Checkout", "", 60s);
  EXPECT_NE(poller.last_error().find("refused: 127.0.0.1 is denied by the controller policy "
                                     "p.yaml"),
            std::string::npos)
      << poller.last_error();
  EXPECT_EQ(store.stats("Checkout", "", 60s).count, 0u);
  // Allowed: polled as before.
  auto allowed = std::make_shared<DestinationGuard>(HostRules{{"127.0.0.1/32"}, {}}, "p.yaml");
  SliStore store2;
  SpanPoller ok(source(experiments::SpanSource::Kind::kZipkin, zipkin.url()), store2, allowed);
  ok.watch("Checkout", "", 60s);
  EXPECT_EQ(ok.last_error(), "");
  EXPECT_EQ(store2.stats("Checkout", "", 60s).count, 5u);
}

TEST(SpanPoller, OtherServicesSpansDoNotCount) {
  MiniZipkin zipkin;
  std::string out;
  ASSERT_TRUE(send_zipkin(zipkin, "--service billing --count 50 --error-every 1", out)) << out;
  ASSERT_TRUE(send_zipkin(zipkin, "--service shop --count 20", out)) << out;
  SliStore store;
  SpanPoller poller(source(experiments::SpanSource::Kind::kZipkin, zipkin.url()), store);
  poller.watch("shop", "", 10s);
  EXPECT_EQ(store.stats("shop", "", 10s).count, 20u);
  EXPECT_EQ(store.stats("shop", "", 10s).errors, 0u);
  EXPECT_EQ(store.stats("billing", "", 10s).count, 0u);
}

// A Jaeger query answer as /api/traces returns it: typed tags, services through processes.
std::string jaeger_answer(int64_t now_us) {
  auto span = [&](const std::string& id, const std::string& pid, const std::string& op,
                  int64_t dur_us, const std::string& tags) {
    return R"({"traceID":"t1","spanID":")" + id + R"(","operationName":")" + op +
           R"(","references":[],"startTime":)" + std::to_string(now_us - 2'000'000) +
           R"(,"duration":)" + std::to_string(dur_us) + R"(,"tags":[)" + tags +
           R"(],"logs":[],"processID":")" + pid + R"(","warnings":null})";
  };
  return R"({"data":[{"traceID":"t1","spans":[)" +
         span("a1", "p1", "GET /cart", 20000,
              R"({"key":"span.kind","type":"string","value":"server"})") +
         "," +
         span("a2", "p1", "GET /cart", 40000, R"({"key":"error","type":"bool","value":true})") +
         "," +
         span("a3", "p1", "POST /pay", 60000,
              R"({"key":"http.status_code","type":"int64","value":503})") +
         "," +
         span("a4", "p1", "POST /pay", 80000,
              R"({"key":"otel.status_code","type":"string","value":"ERROR"})") +
         "," + span("b1", "p2", "SELECT", 1000, R"({"key":"error","type":"bool","value":true})") +
         R"(],"processes":{"p1":{"serviceName":"shop","tags":[]},)"
         R"("p2":{"serviceName":"db","tags":[]}},"warnings":null}],)"
         R"("total":0,"limit":0,"offset":0,"errors":null})";
}

TEST(SpanPoller, JaegerQueryAnswerIsRead) {
  httplib::Server server;
  std::string asked;
  server.Get("/jaeger/api/traces", [&](const httplib::Request& req, httplib::Response& res) {
    asked = req.get_param_value("service") + " " + req.get_param_value("start") + " " +
            req.get_param_value("end");
    res.set_content(jaeger_answer(unix_millis_now() * 1000), "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(1ms);

  SliStore store;
  SpanPoller poller(source(experiments::SpanSource::Kind::kJaeger,
                           "http://127.0.0.1:" + std::to_string(port) + "/jaeger/"),
                    store);
  poller.watch("shop", "", 30s);
  poller.watch("shop", "POST /pay", 30s);
  server.stop();
  t.join();
  EXPECT_EQ(poller.last_error(), "");
  EXPECT_EQ(asked.substr(0, 5), "shop ") << asked;
  SpanStats all = store.stats("shop", "", 30s);
  EXPECT_EQ(all.count, 4u);
  EXPECT_EQ(all.errors, 3u);
  EXPECT_EQ(store.stats("shop", "POST /pay", 30s).count, 2u);
  EXPECT_EQ(store.stats("db", "", 30s).count, 0u);
}

TEST(SpanPoller, AnUnreadableSourceFailsTheSliInsteadOfPassingIt) {
  SliStore store;
  int port = free_port();  // nothing listens
  experiments::SliCondition c;
  c.source =
      source(experiments::SpanSource::Kind::kZipkin, "http://127.0.0.1:" + std::to_string(port));
  c.service = "shop";
  c.error_rate_above = 0.1;
  SpanPoller poller(c.source, store);
  poller.watch("shop", "", c.window);
  TracesProbe probe("shop-errors", c, store, &poller);
  ProbeOutcome o = probe.run();
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.observed.find("cannot read spans: Zipkin at http://127.0.0.1:" +
                            std::to_string(port) + " unreachable"),
            std::string::npos)
      << o.observed;

  // And a source that answers garbage says so.
  httplib::Server server;
  server.Get("/api/v2/traces", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html>login</html>", "text/html");
  });
  int good = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(1ms);
  SpanPoller garbage(
      source(experiments::SpanSource::Kind::kZipkin, "http://127.0.0.1:" + std::to_string(good)),
      store);
  garbage.watch("shop", "", 10s);
  server.stop();
  t.join();
  EXPECT_NE(garbage.last_error().find("not a JSON list of traces"), std::string::npos)
      << garbage.last_error();
}

}  // namespace
}  // namespace faultline::controller
