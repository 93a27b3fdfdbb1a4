// Whether a trace SLI is past its thresholds. Spans are a sample, so the comparison uses a
// one-sided confidence bound on the optimistic side (Wilson for the error ratio, a binomial
// rank bound for latency quantiles) and no verdict below a minimum count: low traffic and
// noise do not abort a run.
#pragma once

#include <optional>
#include <string>

#include "controller/watch/traces/span_window.h"
#include "experiments/model.h"

namespace faultline::controller {

struct SliVerdict {
  bool breached = false;
  bool enough_data = false;
  std::string observed;  // "error ratio 12.0% (at least 8.1% at 95% confidence) over 200 spans"
  // The first condition's point estimate and limit, for charts ("%" or "ms"); unset without
  // enough data.
  std::optional<double> value, threshold;
  std::string unit;
};

SliVerdict evaluate_sli(const experiments::SliCondition& c, const SpanStats& stats);

// Lower bound of the Wilson score interval for `errors` out of `n`, one-sided at z.
double wilson_lower_bound(uint64_t errors, uint64_t n, double z);
// z such that P(Z <= z) = confidence for a standard normal Z.
double normal_quantile(double confidence);

}  // namespace faultline::controller
