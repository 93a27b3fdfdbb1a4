// The packet model the nfqueue engine runs (netem's semantics), checked statistically with a
// fixed seed so a regression shows up as a number, not as a flaky network test.
#include "injector/network/impairment.h"

#include <gtest/gtest.h>

#include <cmath>

namespace faultline::injector {
namespace {

using std::chrono::milliseconds;
constexpr int kN = 200000;

TEST(Impairment, RandomLossHitsItsShare) {
  ImpairmentSpec s;
  s.loss = 0.1;
  Impairment m(s, 1);
  int lost = 0;
  for (int i = 0; i < kN; ++i) lost += m.next().drop;
  EXPECT_NEAR(lost / double(kN), 0.1, 0.005);
}

TEST(Impairment, CorrelationMakesLossComeInLongerRuns) {
  auto mean_run = [](double correlation) {
    ImpairmentSpec s;
    s.loss = 0.5;
    s.loss_correlation = correlation;
    Impairment m(s, 2);
    int runs = 0, lost = 0;
    bool prev = false;
    for (int i = 0; i < kN; ++i) {
      bool d = m.next().drop;
      lost += d;
      runs += d && !prev;
      prev = d;
    }
    return double(lost) / runs;
  };
  EXPECT_NEAR(mean_run(0), 2.0, 0.1);  // geometric runs of a fair coin
  EXPECT_GT(mean_run(0.9), 3.0);
}

TEST(Impairment, GilbertElliottHasItsStationaryRateAndBurstLength) {
  ImpairmentSpec s;
  s.gilbert_elliott = true;
  s.ge_p = 0.05;
  s.ge_r = 0.25;
  s.ge_loss_bad = 1.0;
  s.ge_loss_good = 0.0;
  Impairment m(s, 3);
  int lost = 0, bursts = 0;
  bool prev = false;
  for (int i = 0; i < kN; ++i) {
    bool d = m.next().drop;
    lost += d;
    bursts += d && !prev;
    prev = d;
  }
  EXPECT_NEAR(lost / double(kN), 0.05 / 0.30, 0.01);
  EXPECT_NEAR(double(lost) / bursts, 1 / 0.25, 0.2) << "mean burst = 1/r";
}

TEST(Impairment, DelayDistributionsHaveTheRequestedCentreAndSpread) {
  for (const char* dist : {"uniform", "normal", "pareto", "paretonormal"}) {
    SCOPED_TRACE(dist);
    ImpairmentSpec s;
    s.delay = milliseconds(50);
    s.jitter = milliseconds(10);
    s.distribution = dist;
    Impairment m(s, 4);
    double sum = 0, sq = 0, lo = 1e18;
    for (int i = 0; i < kN; ++i) {
      double ms = m.next().hold.count() / 1e6;
      sum += ms;
      sq += ms * ms;
      lo = std::min(lo, ms);
    }
    double mean = sum / kN, sd = std::sqrt(sq / kN - mean * mean);
    EXPECT_NEAR(mean, 50.0, 0.5);
    EXPECT_GE(lo, 0.0);
    if (std::string(dist) == "uniform") {
      EXPECT_GE(lo, 40.0);
      EXPECT_NEAR(sd, 10 / std::sqrt(3.0), 0.2);
    } else if (std::string(dist) != "paretonormal") {
      EXPECT_NEAR(sd, 10.0, 0.6);
    }
  }
}

TEST(Impairment, ReorderWithGapSendsEveryGapthPacketAhead) {
  ImpairmentSpec s;
  s.delay = milliseconds(10);
  s.reorder = 1.0;
  s.reorder_gap = 5;
  Impairment m(s, 5);
  for (int i = 1; i <= 50; ++i) EXPECT_EQ(m.next().hold.count() == 0, i % 5 == 0) << "packet " << i;
}

TEST(Impairment, DuplicateAndCorruptHitTheirShares) {
  ImpairmentSpec s;
  s.duplicate = 0.2;
  s.corrupt = 0.05;
  Impairment m(s, 6);
  int dup = 0, cor = 0;
  for (int i = 0; i < kN; ++i) {
    auto f = m.next();
    dup += f.duplicate;
    cor += f.corrupt;
  }
  EXPECT_NEAR(dup / double(kN), 0.2, 0.005);
  EXPECT_NEAR(cor / double(kN), 0.05, 0.003);
}

TEST(Impairment, DescribesWhatItDoes) {
  ImpairmentSpec s;
  s.delay = milliseconds(100);
  s.jitter = milliseconds(10);
  s.distribution = "normal";
  s.loss = 0.05;
  EXPECT_EQ(s.describe(), "delay 100ms ± 10ms normal, loss 5%");
  EXPECT_EQ(ImpairmentSpec{}.describe(), "nothing");
}

}  // namespace
}  // namespace faultline::injector
