// The three metric types faultline exports: counters, gauges and fixed-bucket histograms.
// Updates are lock-free atomics and never allocate, so they are cheap on hot paths (fault
// apply/revert, every probe run) once the caller holds the series.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/duration.h"

namespace faultline::metrics {

// Only goes up (a process restart resets it; Prometheus' rate() handles that).
class Counter {
 public:
  // Negative or NaN amounts are ignored: a counter that went down would read as a reset.
  void inc(double by = 1) {
    if (by > 0) value_.fetch_add(by, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (faults active, injectors connected).
class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets fixed at creation (upper bounds, "le"), plus their sum.
class Histogram {
 public:
  // `bounds` must be finite and strictly increasing (the registry checks); +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);

  // NaN is ignored: it belongs in no bucket and would poison the sum.
  void observe(double value);
  void observe(Duration d) { observe(to_seconds(d)); }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  // Cumulative counts; count is derived from the buckets so the two always agree even while
  // observations race with the read.
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (the last is +Inf)
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for operations from a millisecond to half a minute: fault apply and
// revert (a cgroup freeze is ~1 ms, an fsync'd ledger write and a netem install tens of ms, a
// slow node seconds), probe calls (bounded by their timeout).
std::vector<double> latency_buckets_seconds();

}  // namespace faultline::metrics
