// The ordered record of everything that happened in one run. Watchers (the CLI, WatchRun
// streams) read it from any position and block for more.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/time_util.h"
#include "faultline/v1/controller_api.pb.h"

namespace faultline::controller {

namespace pb = ::faultline::v1;

class RunJournal {
 public:
  explicit RunJournal(std::string run_id);

  // Told of every event once it is stamped and stored (the store persists it as it
  // happens, so a controller crash loses nothing), the events of one append_all() at once:
  // a store can write a fan-out over many nodes in one transaction and one sync instead of
  // one per node. Set before the first append.
  void set_listener(std::function<void(const std::vector<pb::RunEvent>&)> f) {
    listener_ = std::move(f);
  }

  // Stamps run_id, seq, wall and monotonic time, then stores and publishes the event.
  pb::RunEvent append(pb::RunEvent event);
  // Several events, stamped in order and handed to the listener together.
  std::vector<pb::RunEvent> append_all(std::vector<pb::RunEvent> events);

  // Events with seq > after_seq, waiting up to `timeout` for at least one. Empty when none
  // arrived in time or the journal is closed.
  std::vector<pb::RunEvent> read_after(uint64_t after_seq, Duration timeout) const;

  std::vector<pb::RunEvent> events() const;
  // At most `max` events with seq > after_seq, and whether more follow them now.
  std::vector<pb::RunEvent> page(uint64_t after_seq, size_t max, bool* more) const;
  // Past `max` events the journal is full: `on_full` is called once (the run aborts), and from
  // then on probe results and notes are dropped and counted; what changes the world (faults,
  // states, the end) is always kept, so a run's record stays whole and its memory bounded.
  void set_capacity(size_t max, std::function<void(size_t max)> on_full);
  size_t dropped() const;
  // The newest event (RUN_FINISHED with the summary once the run has ended).
  std::optional<pb::RunEvent> last() const;
  // True once RUN_FINISHED has been appended.
  bool finished() const;
  MonoTime started() const { return started_; }

 private:
  std::string run_id_;
  MonoTime started_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<pb::RunEvent> events_;
  bool finished_ = false;
  size_t capacity_ = 0;  // 0: no limit
  size_t dropped_ = 0;
  bool full_ = false;
  std::function<void(size_t)> on_full_;
  std::function<void(const std::vector<pb::RunEvent>&)> listener_;
};

}  // namespace faultline::controller
