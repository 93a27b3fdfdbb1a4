// Latency distribution in constant memory: log-spaced buckets 4% wide from 1 µs to about an
// hour, so any quantile is known to within 4% whatever the traffic, and windows merge by adding.
#pragma once

#include <array>
#include <cstdint>

namespace faultline::controller {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 560;

  void add(uint64_t micros);
  void merge(const LatencyHistogram& other);
  void clear();
  uint64_t count() const { return count_; }
  // The latency below which a fraction q of the recorded ones lie, in microseconds (the
  // geometric centre of the bucket holding that rank). 0 when empty.
  double quantile_us(double q) const;

 private:
  static int bucket_of(uint64_t micros);
  static double centre_us(int bucket);

  std::array<uint32_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
};

}  // namespace faultline::controller
