// Polls a Jaeger or Zipkin query API for the spans of the services a run's SLIs watch, and
// feeds them into an SliStore as if they had arrived over OTLP at the time they ended.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "common/interruptible_thread.h"
#include "controller/policy/destination_guard.h"
#include "controller/watch/http_url.h"
#include "controller/watch/traces/sli_store.h"
#include "controller/watch/traces/span_query.h"
#include "experiments/model.h"

namespace faultline::controller {

class SpanPoller {
 public:
  // `destinations` (may be null: anywhere) is checked at every poll, and the poll dials the
  // address it checked.
  SpanPoller(experiments::SpanSource source, SliStore& store,
             std::shared_ptr<const DestinationGuard> destinations = nullptr);
  ~SpanPoller();
  // Starts polling for the series (idempotent) and polls at once. A new series of a service
  // already polled refills the service from the whole window, so it starts with its history.
  void watch(const std::string& service, const std::string& span, Duration window);
  // One round now, on the caller's thread (tests; the background loop calls it too).
  void poll_once();
  // Why the last poll failed; "" when it worked.
  std::string last_error() const;

 private:
  struct Watched {
    Duration window;
    std::set<std::string> spans;  // series of the service ("" = all its spans)
    int64_t polled_to_us = 0;     // 0: poll the whole window again
  };

  experiments::SpanSource source_;
  SliStore& store_;
  std::shared_ptr<const DestinationGuard> destinations_;
  std::unique_ptr<SpanQueryApi> api_;
  HttpUrl url_;  // set before the polling thread starts
  mutable std::mutex mu_;
  std::map<std::string, Watched> services_;
  // Per service: span key -> end (µs), pruned by age.
  std::map<std::string, std::unordered_map<std::string, int64_t>> seen_;
  std::string last_error_;
  std::unique_ptr<InterruptibleThread> loop_;
};

// A run's polled span sources: one store and one poller per API URL, made on first use.
class PolledTraces {
 public:
  struct Source {
    SliStore& store;
    const SpanPoller& poller;
  };
  // The store the condition's spans land in, already watched and polled once.
  Source source_for(const experiments::SliCondition& condition);
  // Where the pollers made from now on may connect (the run's destination guard).
  void set_destinations(std::shared_ptr<const DestinationGuard> d) {
    std::lock_guard lock(mu_);
    destinations_ = std::move(d);
  }

 private:
  std::mutex mu_;
  std::shared_ptr<const DestinationGuard> destinations_;
  std::map<std::string, std::pair<std::unique_ptr<SliStore>, std::unique_ptr<SpanPoller>>> sources_;
};

}  // namespace faultline::controller
