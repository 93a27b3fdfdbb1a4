#include "controller/link/link_events.h"

#include "common/log.h"

namespace faultline::controller {

LinkEvents::LinkEvents(Observer observer, size_t max_queued)
    : observer_(std::move(observer)), max_queued_(max_queued) {
  worker_ = std::thread([this] { run(); });
}

LinkEvents::~LinkEvents() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void LinkEvents::post(std::string node, std::string peer, std::string what) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= max_queued_) {
      // Logged per thousand: a flood of refusals must not become a flood of log lines.
      if (dropped_++ % 1000 == 0)
        spdlog::error(
            "injector link event not recorded, observer behind node={} what=\"{}\" "
            "queued={} dropped={}",
            node, what, queue_.size(), dropped_);
      return;
    }
    queue_.push_back({std::move(node), std::move(peer), std::move(what)});
  }
  wake_.notify_one();
}

void LinkEvents::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void LinkEvents::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything told
    Event e = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    observer_(e.node, e.peer, e.what);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace faultline::controller
