#include "controller/run/run_journal.h"

#include <algorithm>

namespace faultline::controller {

RunJournal::RunJournal(std::string run_id)
    : run_id_(std::move(run_id)), started_(MonoClock::now()) {}

pb::RunEvent RunJournal::append(pb::RunEvent event) {
  std::vector<pb::RunEvent> one;
  one.push_back(event);
  auto kept = append_all(std::move(one));
  return kept.empty() ? event : kept.front();  // dropped by a full journal: as it came
}

std::vector<pb::RunEvent> RunJournal::append_all(std::vector<pb::RunEvent> events) {
  if (events.empty()) return events;
  bool just_filled = false;
  {
    std::lock_guard lock(mu_);
    if (capacity_ > 0 && events_.size() + events.size() > capacity_) {
      auto droppable = [](const pb::RunEvent& e) {
        return e.type() == pb::EVENT_TYPE_PROBE_RESULT || e.type() == pb::EVENT_TYPE_NOTE;
      };
      size_t before = events.size();
      events.erase(std::remove_if(events.begin(), events.end(), droppable), events.end());
      dropped_ += before - events.size();
      just_filled = !full_;
      full_ = true;
    }
    for (auto& event : events) {
      event.set_run_id(run_id_);
      event.set_seq(events_.size() + 1);
      event.set_unix_ms(unix_millis_now());
      event.set_elapsed_ms(
          std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - started_)
              .count());
      if (event.type() == pb::EVENT_TYPE_RUN_FINISHED) {
        finished_ = true;
        // The duration is the finished event's own monotonic time, so the two always agree
        // (taken before the append, it could read a millisecond less than the event).
        if (event.has_summary())
          event.mutable_summary()->set_duration_ms(std::max<int64_t>(1, event.elapsed_ms()));
      }
      events_.push_back(event);
    }
  }
  cv_.notify_all();
  if (just_filled && on_full_) on_full_(capacity_);
  if (listener_ && !events.empty()) listener_(events);
  return events;
}

void RunJournal::set_capacity(size_t max, std::function<void(size_t)> on_full) {
  std::lock_guard lock(mu_);
  capacity_ = max;
  on_full_ = std::move(on_full);
}

std::optional<pb::RunEvent> RunJournal::last() const {
  std::lock_guard lock(mu_);
  if (events_.empty()) return std::nullopt;
  return events_.back();
}

size_t RunJournal::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::vector<pb::RunEvent> RunJournal::page(uint64_t after_seq, size_t max, bool* more) const {
  std::lock_guard lock(mu_);
  std::vector<pb::RunEvent> out;
  // seq is the position + 1, so the page starts at index after_seq.
  size_t from = std::min<size_t>(after_seq, events_.size());
  size_t to = std::min(events_.size(), from + max);
  out.assign(events_.begin() + static_cast<long>(from), events_.begin() + static_cast<long>(to));
  if (more) *more = to < events_.size();
  return out;
}

std::vector<pb::RunEvent> RunJournal::read_after(uint64_t after_seq, Duration timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return events_.size() > after_seq || finished_; });
  if (events_.size() <= after_seq) return {};
  return {events_.begin() + static_cast<long>(after_seq), events_.end()};
}

std::vector<pb::RunEvent> RunJournal::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

bool RunJournal::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

}  // namespace faultline::controller
