// A thread that calls one function at a fixed period until it is destroyed. The proxy uses it
// to end the leases that ran out (proxy_collection.cpp): a toxic's is removed, a disabled
// proxy's is enabled again. That must happen when no traffic flows and no API call comes, since
// the tool that would renew the lease may be dead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace faultline::proxy {

// When a lease of `lease_ms` taken at `now_ns` (steady clock, ns) ends; 0 (no lease) for
// lease_ms <= 0. Capped at ten years so that a huge lease cannot overflow the arithmetic.
int64_t lease_end_ns(int64_t lease_ms, int64_t now_ns);

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
