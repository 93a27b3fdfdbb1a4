// Trace SLI arithmetic: the histogram's quantiles, the sliding window, the confidence bounds,
// and the verdicts they give (no abort on too few spans or on noise near the threshold).
#include <gtest/gtest.h>

#include <random>

#include "controller/watch/traces/sli_store.h"
#include "controller/watch/traces/sli_verdict.h"

namespace faultline::controller {
namespace {

using namespace std::chrono_literals;

TEST(LatencyHistogram, QuantilesAreWithinFourPercent) {
  LatencyHistogram h;
  for (int us = 1; us <= 100000; ++us) h.add(static_cast<uint64_t>(us));
  EXPECT_EQ(h.count(), 100000u);
  for (double q : {0.5, 0.9, 0.95, 0.99}) {
    double want = q * 100000;
    EXPECT_NEAR(h.quantile_us(q), want, want * 0.04) << "q=" << q;
  }
  LatencyHistogram other;
  other.add(5'000'000);
  h.merge(other);
  EXPECT_NEAR(h.quantile_us(1.0), 5e6, 5e6 * 0.04);
}

TEST(SpanWindow, OnlyTheLastSecondsCount) {
  SpanWindow w(10);
  for (int s = 0; s < 30; ++s) w.add(1000 + s, s % 2 == 0, 1000);
  SpanStats st = w.stats(1029, 10);
  EXPECT_EQ(st.count, 10u);
  EXPECT_EQ(st.errors, 5u);
  EXPECT_EQ(w.stats(1029, 3).count, 3u);
  EXPECT_EQ(w.stats(1100, 10).count, 0u) << "a quiet minute later nothing is left";
  w.reserve(60);
  w.add(1101, false, 1);
  EXPECT_EQ(w.stats(1101, 60).count, 1u);
}

TEST(SliStore, KeepsOnlyWatchedSeries) {
  SliStore store;
  store.watch("checkout", "", 30s);
  store.watch("checkout", "POST /pay", 30s);
  std::string pay = "POST /pay", list = "GET /items";
  std::vector<SpanRecord> spans = {{&pay, true, 100}, {&list, false, 200}, {&pay, false, 300}};
  MonoTime now = MonoClock::now();
  store.ingest("checkout", spans.data(), spans.size(), now);
  store.ingest("search", spans.data(), spans.size(), now);
  EXPECT_EQ(store.spans_received(), 6u);
  EXPECT_EQ(store.spans_kept(), 3u);
  EXPECT_EQ(store.stats("checkout", "", 30s, now).count, 3u);
  EXPECT_EQ(store.stats("checkout", "POST /pay", 30s, now).count, 2u);
  EXPECT_EQ(store.stats("checkout", "POST /pay", 30s, now).errors, 1u);
  EXPECT_EQ(store.stats("search", "", 30s, now).count, 0u);
}

TEST(SliBounds, WilsonAndNormalQuantileMatchKnownValues) {
  EXPECT_NEAR(normal_quantile(0.95), 1.6449, 1e-4);
  EXPECT_NEAR(normal_quantile(0.99), 2.3263, 1e-4);
  // 10 errors in 100 at z = 1.96: the Wilson interval is [0.0552, 0.1744].
  EXPECT_NEAR(wilson_lower_bound(10, 100, 1.96), 0.0552, 5e-4);
  EXPECT_EQ(wilson_lower_bound(0, 100, 1.96), 0.0);
}

SpanStats sample(int n, int errors, uint64_t micros) {
  SpanStats s;
  s.count = n;
  s.errors = errors;
  for (int i = 0; i < n; ++i) s.latency.add(micros);
  return s;
}

TEST(SliVerdict, TooFewSpansGiveNoVerdict) {
  experiments::SliCondition c;
  c.service = "checkout";
  c.error_rate_above = 0.05;
  c.min_spans = 20;
  SliVerdict v = evaluate_sli(c, sample(10, 10, 1000));
  EXPECT_FALSE(v.breached) << "ten failures out of ten, but only ten";
  EXPECT_FALSE(v.enough_data);
  EXPECT_EQ(v.observed, "10 spans in the last 30s (fewer than 20): no verdict");
}

TEST(SliVerdict, ErrorRateTripsOnTheBoundNotTheRawRatio) {
  experiments::SliCondition c;
  c.service = "checkout";
  c.error_rate_above = 0.05;
  // 6% raw over 200 spans: could well be a 5% service having a bad minute.
  SliVerdict noise = evaluate_sli(c, sample(200, 12, 1000));
  EXPECT_TRUE(noise.enough_data);
  EXPECT_FALSE(noise.breached) << noise.observed;
  // 20% over 200 spans: certainly past 5%.
  SliVerdict real = evaluate_sli(c, sample(200, 40, 1000));
  EXPECT_TRUE(real.breached) << real.observed;
  EXPECT_NE(real.observed.find("error ratio 20.0%"), std::string::npos) << real.observed;
  EXPECT_NE(real.observed.find("above 5.0%"), std::string::npos) << real.observed;
}

TEST(SliVerdict, LatencyQuantileTripsOnlyWhenItsLowerBoundIsPastTheLimit) {
  experiments::SliCondition c;
  c.service = "checkout";
  c.p99_above = 100ms;
  // Two slow spans among 100 make the raw p99 slow, but do not establish that it is.
  SpanStats s = sample(98, 0, 10'000);
  for (int i = 0; i < 2; ++i) s.latency.add(500'000);
  s.count = 100;
  EXPECT_GT(s.latency.quantile_us(0.99), 100'000) << "the raw p99 would trip";
  EXPECT_FALSE(evaluate_sli(c, s).breached) << evaluate_sli(c, s).observed;
  // A fifth of 500 spans at 500 ms does.
  SpanStats slow = sample(400, 0, 10'000);
  for (int i = 0; i < 100; ++i) slow.latency.add(500'000);
  slow.count = 500;
  SliVerdict v = evaluate_sli(c, slow);
  EXPECT_TRUE(v.breached) << v.observed;
  EXPECT_NE(v.observed.find("above 100ms"), std::string::npos) << v.observed;
}

TEST(SliVerdict, AHealthyServiceUnderRandomNoiseIsNeverAborted) {
  // 1% true error rate against a 5% threshold: a thousand windows of 50 spans, none trips
  // (the raw ratio would have tripped in a few: 3 errors of 50 is 6%).
  std::mt19937 rng(7);
  std::bernoulli_distribution fails(0.01);
  experiments::SliCondition c;
  c.service = "s";
  c.error_rate_above = 0.05;
  int trips = 0, raw_trips = 0;
  for (int w = 0; w < 1000; ++w) {
    int errors = 0;
    for (int i = 0; i < 50; ++i) errors += fails(rng);
    trips += evaluate_sli(c, sample(50, errors, 1000)).breached;
    raw_trips += errors > 2;
  }
  EXPECT_EQ(trips, 0);
  EXPECT_GT(raw_trips, 0) << "the comparison above is not trivially safe";
}

}  // namespace
}  // namespace faultline::controller
