#include "controller/watch/traces/sli_store.h"

#include <cmath>

namespace faultline::controller {
namespace {

int window_seconds(Duration window) {
  return static_cast<int>(
      std::ceil(std::chrono::duration_cast<std::chrono::duration<double>>(window).count()));
}

}  // namespace

int64_t SliStore::second_of(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void SliStore::watch(const std::string& service, const std::string& span, Duration window) {
  int seconds = window_seconds(window);
  std::lock_guard lock(mu_);
  Service& s = services_[service];
  if (span.empty()) {
    if (!s.all) s.all = std::make_unique<SpanWindow>(seconds);
    s.all->reserve(seconds);
  } else {
    auto [it, _] = s.by_span.try_emplace(span, seconds);
    it->second.reserve(seconds);
  }
}

void SliStore::clear(const std::string& service) {
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return;
  // A fresh window of the same size: the ring size is the seconds it was reserved for, plus one.
  auto fresh = [](const SpanWindow& w) { return SpanWindow(w.seconds()); };
  if (it->second.all) *it->second.all = fresh(*it->second.all);
  for (auto& [_, w] : it->second.by_span) w = fresh(w);
}

void SliStore::ingest(const std::string& service, const SpanRecord* spans, size_t n, MonoTime now) {
  received_ += n;
  int64_t second = second_of(now);
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return;
  Service& s = it->second;
  uint64_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    const SpanRecord& r = spans[i];
    bool any = false;
    if (s.all) {
      s.all->add(second, r.error, r.micros);
      any = true;
    }
    if (!s.by_span.empty()) {
      if (auto w = s.by_span.find(*r.span_name); w != s.by_span.end()) {
        w->second.add(second, r.error, r.micros);
        any = true;
      }
    }
    kept += any;
  }
  kept_ += kept;
}

SpanStats SliStore::stats(const std::string& service, const std::string& span, Duration window,
                          MonoTime now) const {
  std::lock_guard lock(mu_);
  auto it = services_.find(service);
  if (it == services_.end()) return {};
  const SpanWindow* w = nullptr;
  if (span.empty()) {
    w = it->second.all.get();
  } else if (auto s = it->second.by_span.find(span); s != it->second.by_span.end()) {
    w = &s->second;
  }
  return w ? w->stats(second_of(now), window_seconds(window)) : SpanStats{};
}

}  // namespace faultline::controller
