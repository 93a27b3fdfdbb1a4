#include "controller/link/link_outbox.h"

#include "common/log.h"

namespace faultline::controller {

LinkOutbox::LinkOutbox(StreamOps& stream, std::string who, OutboxLimits limits)
    : stream_(stream), limits_(limits), node_(std::move(who)) {
  echo_.mutable_heartbeat_ack();
}

void LinkOutbox::set_node(const std::string& node) {
  std::lock_guard lock(mu_);
  node_ = node;
}

bool LinkOutbox::write(pb::ControllerMessage msg) {
  size_t bytes = msg.ByteSizeLong();
  std::unique_lock lock(mu_);
  if (ending_) return false;
  if (queue_.size() >= limits_.max_messages || queued_bytes_ + bytes > limits_.max_bytes) {
    spdlog::warn(
        "injector link write queue full, ending the stream node={} queued={} queued_bytes={} "
        "max_messages={} max_bytes={}",
        node_, queue_.size(), queued_bytes_, limits_.max_messages, limits_.max_bytes);
    end_locked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "the injector did not read what the controller sent (write queue "
                            "full)"),
               true, lock);
    return false;
  }
  queue_.push_back(std::move(msg));
  queued_bytes_ += bytes;
  if (writing_ || !take_next_locked() || !enter_locked()) return true;
  start_writes(lock);
  return true;
}

void LinkOutbox::echo_heartbeat(uint64_t seq) {
  std::unique_lock lock(mu_);
  if (ending_) return;
  echo_seq_ = seq;
  echo_due_ = true;
  if (writing_ || !take_next_locked() || !enter_locked()) return;
  start_writes(lock);
}

bool LinkOutbox::read_next() {
  std::unique_lock lock(mu_);
  if (ending_ || !enter_locked()) return false;
  lock.unlock();
  stream_.start_read();
  lock.lock();
  leave(lock);
  return true;
}

void LinkOutbox::on_write_done(bool ok) {
  std::unique_lock lock(mu_);
  if (starting_) {
    // The thread that started this write is still inside StartWrite (gRPC may be reading the
    // message there, or this is that very call, run inline). It takes the next write itself
    // once StartWrite returns, so the message is never touched while StartWrite may read it.
    done_pending_ = true;
    done_ok_ = ok;
    return;
  }
  if (!write_done_locked(ok) || !enter_locked()) {
    finish_if_idle(lock);
    return;
  }
  start_writes(lock);
}

bool LinkOutbox::write_done_locked(bool ok) {
  writing_ = false;
  if (!ok && !ending_) {
    // The peer is gone or the call was cancelled: nothing more can be written.
    ending_ = true;
    status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write to the injector failed");
    queue_.clear();
    queued_bytes_ = 0;
  }
  return !ending_ && take_next_locked();
}

void LinkOutbox::start_writes(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    const pb::ControllerMessage* msg = current_;
    starting_ = true;
    lock.unlock();
    // Never under the lock: OnWriteDone takes it, and may run before StartWrite returns.
    stream_.start_write(msg);
    lock.lock();
    starting_ = false;
    if (!done_pending_) break;
    // The write finished while StartWrite ran; its OnWriteDone left the next one to us.
    done_pending_ = false;
    if (!write_done_locked(done_ok_)) break;
  }
  leave(lock);
}

void LinkOutbox::end(const grpc::Status& status, bool cancel) {
  std::unique_lock lock(mu_);
  end_locked(status, cancel, lock);
}

void LinkOutbox::end_locked(const grpc::Status& status, bool cancel,
                            std::unique_lock<std::mutex>& lock) {
  if (!ending_) {
    ending_ = true;
    status_ = status;
    queue_.clear();
    queued_bytes_ = 0;
  }
  if (cancel && !cancelled_ && enter_locked()) {
    cancelled_ = true;
    lock.unlock();
    // Fails a write stuck on a peer that stopped reading, and ends the waiting read.
    stream_.try_cancel();
    lock.lock();
    leave(lock);
    return;
  }
  finish_if_idle(lock);
}

bool LinkOutbox::ending() const {
  std::lock_guard lock(mu_);
  return ending_;
}

size_t LinkOutbox::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool LinkOutbox::enter_locked() {
  if (finished_) return false;
  ++callers_;
  return true;
}

bool LinkOutbox::take_next_locked() {
  if (echo_due_) {
    // The slot is not in flight (nothing is), so it may change now.
    echo_.mutable_heartbeat_ack()->set_seq(echo_seq_);
    echo_due_ = false;
    current_ = &echo_;
  } else if (!queue_.empty()) {
    queued_bytes_ -= queue_.front().ByteSizeLong();
    out_ = std::move(queue_.front());
    queue_.pop_front();
    current_ = &out_;
  } else {
    return false;
  }
  writing_ = true;
  return true;
}

void LinkOutbox::leave(std::unique_lock<std::mutex>& lock) {
  --callers_;
  finish_if_idle(lock);
}

void LinkOutbox::finish_if_idle(std::unique_lock<std::mutex>& lock) {
  if (!ending_ || writing_ || callers_ > 0 || finished_) {
    lock.unlock();
    return;
  }
  finished_ = true;
  grpc::Status status = status_;
  // Read under the lock: once Finish is called, OnDone may free the stream and this outbox.
  StreamOps& stream = stream_;
  lock.unlock();
  // The last call on the stream: it may be freed once this returns.
  stream.finish(status);
}

void LinkOutbox::on_done() {
  // gRPC runs OnDone only after Finish, but through its own (uninstrumented) synchronisation;
  // taking the lock orders everything done under it before Finish with what OnDone does next
  // (freeing this outbox) in a way ThreadSanitizer, and any reader, can see.
  std::lock_guard lock(mu_);
}

}  // namespace faultline::controller
