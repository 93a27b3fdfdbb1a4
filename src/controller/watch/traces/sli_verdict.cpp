#include "controller/watch/traces/sli_verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/duration.h"

namespace faultline::controller {

double normal_quantile(double confidence) {
  // Bisection on the CDF: exact to 1e-9 and only ever computed once per evaluation.
  double lo = -10, hi = 10;
  for (int i = 0; i < 80; ++i) {
    double mid = (lo + hi) / 2;
    double cdf = 0.5 * std::erfc(-mid / std::sqrt(2.0));
    (cdf < confidence ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

double wilson_lower_bound(uint64_t errors, uint64_t n, double z) {
  if (n == 0) return 0;
  double nn = static_cast<double>(n);
  double p = static_cast<double>(errors) / nn;
  double z2 = z * z;
  double centre = p + z2 / (2 * nn);
  double spread = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return std::max(0.0, (centre - spread) / (1 + z2 / nn));
}

namespace {

std::string ms_text(double micros) {
  return fmt::format("{:.3g}ms", micros / 1000.0);
}

}  // namespace

SliVerdict evaluate_sli(const experiments::SliCondition& c, const SpanStats& stats) {
  SliVerdict v;
  std::string window = format_duration(c.window);
  if (stats.count < static_cast<uint64_t>(c.min_spans)) {
    v.observed = fmt::format("{} spans in the last {} (fewer than {}): no verdict", stats.count,
                             window, c.min_spans);
    return v;
  }
  v.enough_data = true;
  double z = normal_quantile(c.confidence);
  int confidence_pct = static_cast<int>(std::lround(c.confidence * 100));
  std::vector<std::string> parts;
  if (c.error_rate_above) {
    double ratio = static_cast<double>(stats.errors) / static_cast<double>(stats.count);
    double lower = wilson_lower_bound(stats.errors, stats.count, z);
    bool bad = lower > *c.error_rate_above;
    v.breached = v.breached || bad;
    v.value = ratio * 100;
    v.threshold = *c.error_rate_above * 100;
    v.unit = "%";
    parts.push_back(fmt::format(
        "error ratio {:.1f}% (at least {:.1f}% at {}% confidence{})", ratio * 100, lower * 100,
        confidence_pct, bad ? fmt::format(", above {:.1f}%", *c.error_rate_above * 100) : ""));
  }
  auto quantile = [&](const char* label, double q, const std::optional<Duration>& limit) {
    if (!limit) return;
    double n = static_cast<double>(stats.count);
    double q_low = std::max(0.0, q - z * std::sqrt(q * (1 - q) / n));
    double point = stats.latency.quantile_us(q);
    double lower = stats.latency.quantile_us(q_low);
    double limit_us = std::chrono::duration<double, std::micro>(*limit).count();
    bool bad = lower > limit_us;
    v.breached = v.breached || bad;
    if (!v.value) {
      v.value = point / 1000;
      v.threshold = limit_us / 1000;
      v.unit = "ms";
    }
    parts.push_back(fmt::format("{} {} (at least {} at {}% confidence{})", label, ms_text(point),
                                ms_text(lower), confidence_pct,
                                bad ? ", above " + format_duration(*limit) : ""));
  };
  quantile("p50", 0.50, c.p50_above);
  quantile("p95", 0.95, c.p95_above);
  quantile("p99", 0.99, c.p99_above);
  for (const auto& p : parts) v.observed += (v.observed.empty() ? "" : ", ") + p;
  v.observed += fmt::format(" over {} spans in the last {}", stats.count, window);
  return v;
}

}  // namespace faultline::controller
