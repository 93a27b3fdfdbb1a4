// Registrations, refusals and disconnects, told to the link's observer (the audit trail and
// the store) on a thread of its own: the observer syncs files, and gRPC's callback threads,
// which every injector's heartbeats share, must not wait on a disk.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace faultline::controller {

class LinkEvents {
 public:
  using Observer = std::function<void(const std::string& node, const std::string& peer,
                                      const std::string& what)>;
  // At most `max_queued` events wait; beyond that (an observer stuck on a full disk while
  // injectors keep reconnecting) new ones are dropped and counted in the log.
  explicit LinkEvents(Observer observer, size_t max_queued = 65536);
  // Tells the observer everything already posted, then stops.
  ~LinkEvents();
  LinkEvents(const LinkEvents&) = delete;
  LinkEvents& operator=(const LinkEvents&) = delete;

  // In order: one stream's "registered" is told before its "disconnected".
  void post(std::string node, std::string peer, std::string what);
  // Returns once everything posted before the call has been told.
  void drain();

 private:
  struct Event {
    std::string node, peer, what;
  };
  void run();

  Observer observer_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<Event> queue_;
  bool busy_ = false;  // the observer is running one event
  bool stopping_ = false;
  size_t dropped_ = 0;
  std::thread worker_;
};

}  // namespace faultline::controller
