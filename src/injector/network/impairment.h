// netem's packet model, in user space: what happens to each packet (dropped, duplicated,
// corrupted, held for how long). The nfqueue engine asks it once per packet; the same
// semantics as sch_netem so an experiment means the same on either backend:
//  - correlation: each random draw is r = (1 - c) * fresh + c * previous (netem's get_crandom);
//  - loss: random (with correlation) or Gilbert-Elliott (p: good->bad, r: bad->good, loss
//    probability loss_bad in the bad state and loss_good in the good one);
//  - delay + jitter with a distribution (uniform, normal, pareto, paretonormal), jitter being
//    the spread (half-width for uniform, standard deviation otherwise), never below zero;
//  - reorder: with gap g, after g-1 delayed packets one is sent at once with probability
//    `reorder` (netem's rule); with no gap, any packet is, with that probability.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace faultline::injector {

struct ImpairmentSpec {
  std::chrono::nanoseconds delay{0};
  std::chrono::nanoseconds jitter{0};
  double delay_correlation = 0;
  std::string distribution = "uniform";

  bool gilbert_elliott = false;
  double loss = 0, loss_correlation = 0;  // random model
  double ge_p = 0, ge_r = 0, ge_loss_bad = 1, ge_loss_good = 0;

  double duplicate = 0, duplicate_correlation = 0;
  double corrupt = 0, corrupt_correlation = 0;
  double reorder = 0, reorder_correlation = 0;
  uint32_t reorder_gap = 0;

  // netem's own rate limit (network_bandwidth with backend netem); 0 = none. The nfqueue
  // engine does not do rate limits: bandwidth there is tbf or htb.
  uint64_t rate_bps = 0;

  bool any() const;
  std::string describe() const;
};

struct PacketFate {
  bool drop = false;
  bool duplicate = false;
  bool corrupt = false;
  std::chrono::nanoseconds hold{0};
};

// A distribution's standard shape (centred, unit spread) at the uniform draw u in (0, 1):
// "uniform" (over [-1, 1]), "normal" or "pareto". paretonormal mixes two draws (see .cpp).
double distribution_value(const std::string& distribution, double u);

class Impairment {
 public:
  explicit Impairment(ImpairmentSpec spec, uint64_t seed = std::random_device{}());
  PacketFate next();
  const ImpairmentSpec& spec() const { return spec_; }

 private:
  struct Correlated {
    double last = 0;
    double draw(std::mt19937_64& rng, double correlation);
  };
  double uniform01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  bool lose();
  std::chrono::nanoseconds delay_sample();

  ImpairmentSpec spec_;
  std::mt19937_64 rng_;
  Correlated loss_c_, dup_c_, corrupt_c_, reorder_c_, delay_c_;
  bool ge_bad_ = false;
  uint32_t since_reorder_ = 0;
};

}  // namespace faultline::injector
