#include "proxy/lease_sweeper.h"

namespace faultline::proxy {

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
