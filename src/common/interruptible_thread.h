// A background loop that can be told to stop at any moment, even mid-sleep: the shape of
// every fault that keeps acting until it is reverted (crash loops, link flaps, memory ramps).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/duration.h"

namespace faultline {

class InterruptibleThread {
 public:
  // Runs body(*this) on a new thread. The body sleeps with sleep_for() and returns when it
  // answers false.
  explicit InterruptibleThread(std::function<void(InterruptibleThread&)> body)
      : thread_([this, body = std::move(body)] { body(*this); }) {}
  // Stops and joins.
  ~InterruptibleThread() { stop(); }
  InterruptibleThread(const InterruptibleThread&) = delete;
  InterruptibleThread& operator=(const InterruptibleThread&) = delete;

  // Sleeps for `d`; false as soon as stop() is called (the body should return).
  bool sleep_for(Duration d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stop_; });
  }

  // Idempotent; returns once the body has returned.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace faultline
