#include "controller/run/run_journal.h"

namespace faultline::controller {

RunJournal::RunJournal(std::string run_id)
    : run_id_(std::move(run_id)), started_(MonoClock::now()) {}

pb::RunEvent RunJournal::append(pb::RunEvent event) {
  std::vector<pb::RunEvent> one;
  one.push_back(std::move(event));
  return append_all(std::move(one)).front();
}

std::vector<pb::RunEvent> RunJournal::append_all(std::vector<pb::RunEvent> events) {
  if (events.empty()) return events;
  {
    std::lock_guard lock(mu_);
    for (auto& event : events) {
      event.set_run_id(run_id_);
      event.set_seq(events_.size() + 1);
      event.set_unix_ms(unix_millis_now());
      event.set_elapsed_ms(
          std::chrono::duration_cast<std::chrono::milliseconds>(MonoClock::now() - started_)
              .count());
      if (event.type() == pb::EVENT_TYPE_RUN_FINISHED) finished_ = true;
      events_.push_back(event);
    }
  }
  cv_.notify_all();
  if (listener_) listener_(events);
  return events;
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
