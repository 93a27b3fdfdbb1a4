// Sliding window over one series of spans (a service, or one span name of it): per-second
// slots of count, errors and latency histogram in a ring, so memory is bounded by the longest
// window asked for, not by traffic.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "controller/watch/traces/latency_histogram.h"

namespace faultline::controller {

struct SpanStats {
  uint64_t count = 0;
  uint64_t errors = 0;
  LatencyHistogram latency;
};

class SpanWindow {
 public:
  explicit SpanWindow(int seconds);
  // Grows the ring to hold at least this many seconds (never shrinks).
  void reserve(int seconds);
  void add(int64_t second, bool error, uint64_t micros);
  // The longest window it holds.
  int seconds() const { return static_cast<int>(ring_.size()) - 1; }
  // Spans of the last `seconds` seconds, the current one included.
  SpanStats stats(int64_t now_second, int seconds) const;

 private:
  struct Slot {
    int64_t second = -1;
    uint64_t count = 0, errors = 0;
    std::unique_ptr<LatencyHistogram> latency;  // only for seconds that saw spans
  };
  Slot& slot_for(int64_t second);

  std::vector<Slot> ring_;
};

}  // namespace faultline::controller
