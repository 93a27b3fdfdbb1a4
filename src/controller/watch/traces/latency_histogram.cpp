#include "controller/watch/traces/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace faultline::controller {
namespace {
const double kLogGrowth = std::log(1.04);
}

int LatencyHistogram::bucket_of(uint64_t micros) {
  if (micros <= 1) return 0;
  int b = 1 + static_cast<int>(std::log(static_cast<double>(micros)) / kLogGrowth);
  return std::min(b, kBuckets - 1);
}

double LatencyHistogram::centre_us(int bucket) {
  if (bucket == 0) return 1.0;
  // Bucket b holds [1.04^(b-1), 1.04^b).
  return std::exp((bucket - 0.5) * kLogGrowth);
}

void LatencyHistogram::add(uint64_t micros) {
  ++buckets_[bucket_of(micros)];
  ++count_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
}

void LatencyHistogram::clear() {
  buckets_.fill(0);
  count_ = 0;
}

double LatencyHistogram::quantile_us(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The smallest value with at least ceil(q * n) values at or below it.
  auto rank = static_cast<uint64_t>(std::max(1.0, std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return centre_us(i);
  }
  return centre_us(kBuckets - 1);
}

}  // namespace faultline::controller
