#include "controller/watch/traces/span_window.h"

#include <algorithm>

namespace faultline::controller {

SpanWindow::SpanWindow(int seconds) : ring_(std::max(seconds, 1) + 1) {}

void SpanWindow::reserve(int seconds) {
  size_t want = static_cast<size_t>(std::max(seconds, 1)) + 1;
  if (want <= ring_.size()) return;
  // Slots are placed by second modulo the ring size; re-place the live ones.
  std::vector<Slot> bigger(want);
  for (auto& s : ring_)
    if (s.second >= 0) bigger[static_cast<size_t>(s.second) % want] = std::move(s);
  ring_ = std::move(bigger);
}

SpanWindow::Slot& SpanWindow::slot_for(int64_t second) {
  Slot& s = ring_[static_cast<size_t>(second) % ring_.size()];
  if (s.second != second) {
    s.second = second;
    s.count = s.errors = 0;
    if (s.latency) s.latency->clear();
  }
  return s;
}

void SpanWindow::add(int64_t second, bool error, uint64_t micros) {
  // A polled span can be older than the window: its slot already holds a newer second.
  if (ring_[static_cast<size_t>(second) % ring_.size()].second > second) return;
  Slot& s = slot_for(second);
  ++s.count;
  s.errors += error ? 1 : 0;
  if (!s.latency) s.latency = std::make_unique<LatencyHistogram>();
  s.latency->add(micros);
}

SpanStats SpanWindow::stats(int64_t now_second, int seconds) const {
  SpanStats out;
  for (const auto& s : ring_) {
    if (s.second < 0 || s.second > now_second || s.second <= now_second - seconds) continue;
    out.count += s.count;
    out.errors += s.errors;
    if (s.latency) out.latency.merge(*s.latency);
  }
  return out;
}

}  // namespace faultline::controller
