#include "proxy/lease_sweeper.h"

#include <algorithm>

namespace faultline::proxy {

int64_t lease_end_ns(int64_t lease_ms, int64_t now_ns) {
  if (lease_ms <= 0) return 0;
  constexpr int64_t kMaxMs = 10LL * 365 * 24 * 3600 * 1000;
  return now_ns + std::min(lease_ms, kMaxMs) * 1'000'000;
}

LeaseSweeper::LeaseSweeper(std::chrono::milliseconds period, std::function<void()> sweep)
    : period_(period), sweep_(std::move(sweep)), thread_([this] {
        std::unique_lock lock(mu_);
        while (!cv_.wait_for(lock, period_, [this] { return stop_; })) {
          lock.unlock();
          sweep_();
          lock.lock();
        }
      }) {}

LeaseSweeper::~LeaseSweeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace faultline::proxy
