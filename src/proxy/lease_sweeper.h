// A thread that calls one function at a fixed period until it is destroyed. The proxy uses it
// to remove toxics whose lease ran out (proxy_collection.cpp): that must happen when no traffic
// flows and no API call comes, since the tool that would renew the lease may be dead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace faultline::proxy {

class LeaseSweeper {
 public:
  LeaseSweeper(std::chrono::milliseconds period, std::function<void()> sweep);
  ~LeaseSweeper();  // wakes the thread at once and joins it
  LeaseSweeper(const LeaseSweeper&) = delete;
  LeaseSweeper& operator=(const LeaseSweeper&) = delete;

 private:
  const std::chrono::milliseconds period_;
  const std::function<void()> sweep_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: it starts once everything above is ready
};

}  // namespace faultline::proxy
