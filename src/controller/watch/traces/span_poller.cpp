#include "controller/watch/traces/span_poller.h"

#include <httplib.h>

#include <algorithm>
#include <vector>

#include "common/log.h"
#include "common/time_util.h"
#include "controller/watch/pinned_destination.h"

namespace faultline::controller {
namespace {

// Backends index spans a little after they end; every poll reaches back this far again and
// the span keys already seen keep those spans from counting twice.
constexpr int64_t kOverlapUs = 5'000'000;
// Traces per request (both APIs limit traces, not spans).
constexpr int kTraceLimit = 10'000;

int64_t unix_micros_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t micros(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

const char* api_name(experiments::SpanSource::Kind k) {
  return k == experiments::SpanSource::Kind::kZipkin ? "Zipkin" : "Jaeger";
}

}  // namespace

SpanPoller::SpanPoller(experiments::SpanSource source, SliStore& store,
                       std::shared_ptr<const DestinationGuard> destinations)
    : source_(std::move(source)),
      store_(store),
      destinations_(std::move(destinations)),
      api_(source_.kind == experiments::SpanSource::Kind::kZipkin ? make_zipkin_query()
                                                                  : make_jaeger_query()) {
  // Without trailing slashes: messages name the URL as the API paths are appended to it.
  while (!source_.url.empty() && source_.url.back() == '/') source_.url.pop_back();
  url_ = split_http_url(source_.url);
  loop_ = std::make_unique<InterruptibleThread>([this](InterruptibleThread& self) {
    while (self.sleep_for(source_.poll_interval)) poll_once();
  });
}

SpanPoller::~SpanPoller() {
  loop_->stop();
}

void SpanPoller::watch(const std::string& service, const std::string& span, Duration window) {
  store_.watch(service, span, window);
  {
    std::lock_guard lock(mu_);
    auto [it, added] = services_.try_emplace(service, Watched{window, {}, 0});
    Watched& w = it->second;
    w.window = std::max(w.window, window);
    if (!w.spans.insert(span).second) return;
    if (!added) {
      store_.clear(service);
      seen_.erase(service);
      w.polled_to_us = 0;
    }
  }
  poll_once();
}

std::string SpanPoller::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void SpanPoller::poll_once() {
  std::map<std::string, Watched> services;
  {
    std::lock_guard lock(mu_);
    services = services_;
  }
  httplib::Client client(url_.origin);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  // Checked at every poll and dialled where checked: a name that answers differently later
  // (DNS rebinding) gains nothing.
  std::string error = pin_destination(client, url_.origin, destinations_.get());
  if (!error.empty()) {
    error = std::string(api_name(source_.kind)) + " at " + source_.url + " " + error;
    services.clear();
  }
  int64_t longest_window_us = 0;
  for (auto& [service, w] : services) {
    longest_window_us = std::max(longest_window_us, micros(w.window));
    int64_t now_us = unix_micros_now();
    int64_t from = w.polled_to_us ? w.polled_to_us - kOverlapUs : now_us - micros(w.window);
    auto res = client.Get(url_.path + api_->request_path(service, from, now_us, kTraceLimit));
    if (!res) {
      error = std::string(api_name(source_.kind)) + " at " + source_.url +
              " unreachable: " + httplib::to_string(res.error());
      break;
    }
    if (res->status != 200) {
      error = std::string(api_name(source_.kind)) + " at " + source_.url + " answered HTTP " +
              std::to_string(res->status);
      continue;
    }
    auto spans = api_->parse(res->body, service);
    if (!spans) {
      error = spans.error().message + " (" + source_.url + ")";
      continue;
    }
    MonoTime mono_now = MonoClock::now();
    std::lock_guard lock(mu_);
    if (services_[service].polled_to_us != w.polled_to_us) continue;  // refilled meanwhile
    auto& seen = seen_[service];
    for (const auto& s : *spans) {
      if (!seen.emplace(s.key, s.end_unix_us).second) continue;
      // A span counts in the second it ended, on the monotonic clock the windows use.
      auto age = std::chrono::microseconds(std::max<int64_t>(0, now_us - s.end_unix_us));
      SpanRecord r{&s.name, s.error, s.micros};
      store_.ingest(service, &r, 1, mono_now - age);
    }
    services_[service].polled_to_us = now_us;
  }
  std::lock_guard lock(mu_);
  int64_t horizon = unix_micros_now() - longest_window_us - 2 * kOverlapUs;
  for (auto& [_, seen] : seen_)
    for (auto it = seen.begin(); it != seen.end();)
      it = it->second < horizon ? seen.erase(it) : std::next(it);
  if (error != last_error_) {
    if (!error.empty())
      spdlog::warn("span poll failed source={} error=\"{}\"", source_.url, error);
    else
      spdlog::info("span poll works again source={}", source_.url);
  }
  last_error_ = error;
}

PolledTraces::Source PolledTraces::source_for(const experiments::SliCondition& condition) {
  std::lock_guard lock(mu_);
  std::string key = std::string(api_name(condition.source.kind)) + " " + condition.source.url;
  auto& [store, poller] = sources_[key];
  if (!store) {
    store = std::make_unique<SliStore>();
    poller = std::make_unique<SpanPoller>(condition.source, *store, destinations_);
  }
  poller->watch(condition.service, condition.span, condition.window);
  return {*store, *poller};
}

}  // namespace faultline::controller
