// Trace SLIs: spans from the OTLP receiver (or a Jaeger/Zipkin poll) land here, in sliding
// windows per service and per watched span name. Only series someone watches are kept, so
// memory is bounded by the experiments' SLIs, not by what applications send.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/duration.h"
#include "common/time_util.h"
#include "controller/watch/traces/span_window.h"

namespace faultline::controller {

struct SpanRecord {
  const std::string* span_name;
  bool error;
  uint64_t micros;
};

class SliStore {
 public:
  // Keep a window of at least `window` for the service (span "" = all its spans).
  void watch(const std::string& service, const std::string& span, Duration window);
  // Empties the service's windows (keeping what is watched), so its spans can be fed anew.
  void clear(const std::string& service);
  // One resource's spans, under one lock.
  void ingest(const std::string& service, const SpanRecord* spans, size_t n,
              MonoTime now = MonoClock::now());
  SpanStats stats(const std::string& service, const std::string& span, Duration window,
                  MonoTime now = MonoClock::now()) const;

  uint64_t spans_received() const { return received_; }
  uint64_t spans_kept() const { return kept_; }

 private:
  struct Service {
    std::unique_ptr<SpanWindow> all;
    std::unordered_map<std::string, SpanWindow> by_span;
  };
  static int64_t second_of(MonoTime t);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Service> services_;
  std::atomic<uint64_t> received_{0}, kept_{0};
};

}  // namespace faultline::controller
