// The OTLP receiver and trace SLIs fed by a real OpenTelemetry client that nobody here wrote:
// the OpenTelemetry JS SDK with its OTLP/gRPC exporter (tests/support/otel_js, from npm).
#include "controller/watch/traces/otlp_receiver.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "controller/watch/traces/traces_probe.h"
#include "support/child_process.h"

namespace faultline::controller {
namespace {

using namespace faultline::testing;
using namespace std::chrono_literals;

class OtlpReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.start("127.0.0.1:0").ok()); }

  // Sends spans with the JS SDK; true when its exporter reported success.
  bool send(const std::string& args) {
    std::string cmd = "node " FAULTLINE_SOURCE_DIR
                      "/tests/support/otel_js/send_spans.js --endpoint "
                      "127.0.0.1:" +
                      std::to_string(receiver_.port()) + " " + args + " >" + dir_.file("out") +
                      " 2>&1";
    int rc = std::system(cmd.c_str());
    last_output_ = read_file(dir_.file("out"));
    return rc == 0;
  }
  bool wait_for(const std::string& service, uint64_t count) {
    return wait_until([&] { return store_.stats(service, "", 60s).count >= count; }, 10000ms);
  }
  experiments::SliCondition sli(const std::string& service) {
    experiments::SliCondition c;
    c.service = service;
    c.window = 60s;
    return c;
  }

  TempDir dir_;
  SliStore store_;
  OtlpReceiver receiver_{store_};
  std::string last_output_;
};

TEST_F(OtlpReceiverTest, SpansFromTheOtelSdkGiveTheRightCountsErrorsAndLatency) {
  store_.watch("checkout", "", 60s);
  store_.watch("checkout", "POST /pay", 60s);
  ASSERT_TRUE(
      send("--service checkout --span 'POST /pay' --count 200 --error-every 5 "
           "--latency-ms 40"))
      << last_output_;
  ASSERT_TRUE(wait_for("checkout", 200)) << store_.stats("checkout", "", 60s).count;
  SpanStats all = store_.stats("checkout", "", 60s);
  EXPECT_EQ(all.count, 200u);
  EXPECT_EQ(all.errors, 40u);
  EXPECT_NEAR(all.latency.quantile_us(0.5), 40000, 40000 * 0.04);
  EXPECT_NEAR(all.latency.quantile_us(0.99), 40000, 40000 * 0.04);
  EXPECT_EQ(store_.stats("checkout", "POST /pay", 60s).count, 200u);
  EXPECT_EQ(store_.stats("checkout", "GET /other", 60s).count, 0u);

  auto breach = sli("checkout");
  breach.error_rate_above = 0.05;
  TracesProbe tripping("errors", breach, store_);
  ProbeOutcome o = tripping.run();
  EXPECT_FALSE(o.ok) << o.observed;
  EXPECT_NE(o.observed.find("checkout: error ratio 20.0%"), std::string::npos) << o.observed;

  auto fine = sli("checkout");
  fine.error_rate_above = 0.30;
  fine.p99_above = 100ms;
  o = TracesProbe("fine", fine, store_).run();
  EXPECT_TRUE(o.ok) << o.observed;
  auto slow = sli("checkout");
  slow.p95_above = 30ms;
  o = TracesProbe("slow", slow, store_).run();
  EXPECT_FALSE(o.ok) << "40 ms spans are past a 30 ms p95: " << o.observed;
}

TEST_F(OtlpReceiverTest, ServerSideHttpStatusCountsAsAnError) {
  store_.watch("api", "", 60s);
  ASSERT_TRUE(send("--service api --count 100 --http-status-500-every 4 --latency-ms 5"))
      << last_output_;
  ASSERT_TRUE(wait_for("api", 100));
  EXPECT_EQ(store_.stats("api", "", 60s).errors, 25u);
}

TEST_F(OtlpReceiverTest, TooFewSpansDoNotTripEvenIfAllFail) {
  auto c = sli("quiet");
  c.error_rate_above = 0.01;
  c.min_spans = 20;
  TracesProbe probe("quiet-errors", c, store_);
  ASSERT_TRUE(send("--service quiet --count 10 --error-every 1 --latency-ms 5")) << last_output_;
  ASSERT_TRUE(wait_for("quiet", 10));
  ProbeOutcome o = probe.run();
  EXPECT_TRUE(o.ok) << o.observed;
  EXPECT_NE(o.observed.find("fewer than 20): no verdict"), std::string::npos) << o.observed;
  // Ten more failures make twenty: now it is a verdict, and a breach.
  ASSERT_TRUE(send("--service quiet --count 10 --error-every 1 --latency-ms 5")) << last_output_;
  ASSERT_TRUE(wait_for("quiet", 20));
  EXPECT_FALSE(probe.run().ok);
}

TEST_F(OtlpReceiverTest, UnwatchedServicesCostNothing) {
  ASSERT_TRUE(send("--service nobody-asked --count 50 --latency-ms 1")) << last_output_;
  ASSERT_TRUE(wait_until([&] { return store_.spans_received() >= 50; }, 10000ms));
  EXPECT_EQ(store_.spans_kept(), 0u);
}

}  // namespace
}  // namespace faultline::controller
