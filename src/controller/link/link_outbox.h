// What the controller writes down one injector's stream, and how that stream ends. gRPC's
// callback API allows one write in flight per stream, so messages wait here; the next one is
// started when the last is done. The outbox also decides when the stream is finished: only
// once nobody is inside a gRPC call on it, because the stream (and the reactor behind it) may
// be freed as soon as it is.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "faultline/v1/injector_link.pb.h"

namespace faultline::controller {

namespace pb = ::faultline::v1;

// The gRPC side of one stream, as the outbox drives it (the reactor implements it).
class StreamOps {
 public:
  virtual ~StreamOps() = default;
  virtual void start_write(const pb::ControllerMessage* msg) = 0;
  virtual void start_read() = 0;
  virtual void try_cancel() = 0;
  virtual void finish(const grpc::Status& status) = 0;
};

struct OutboxLimits {
  // Messages waiting behind the one being written. An injector that stops reading (frozen,
  // partitioned, or hostile) blocks its writes; past the cap the stream is ended rather than
  // the queue growing with every renewal and command.
  size_t max_messages = 1024;
  size_t max_bytes = 8 << 20;
};

class LinkOutbox {
 public:
  // `who` names the stream in the log (the peer, until set_node names the injector).
  LinkOutbox(StreamOps& stream, std::string who, OutboxLimits limits);
  void set_node(const std::string& node);

  // Queues one message and starts writing it if nothing is being written. False when the
  // stream is ending or the queue is full (which ends it).
  bool write(pb::ControllerMessage msg);
  // The echo of a heartbeat. One slot, reused: an echo not yet written is replaced by the
  // newer one (the injector only needs to hear from the controller), so heartbeats allocate
  // nothing and never fill the queue.
  void echo_heartbeat(uint64_t seq);
  // Starts the next read unless the stream is ending. False: it is, and no read was started.
  bool read_next();
  // The reactor's OnWriteDone.
  void on_write_done(bool ok);
  // Ends the stream with `status` once the write in flight (if any) is done. With `cancel`,
  // the call is cancelled first, so a write stuck on a peer that stopped reading fails at
  // once and a read waiting on it ends.
  void end(const grpc::Status& status, bool cancel);
  // The reactor's OnDone, before it lets the outbox go.
  void on_done();
  // Whether end() was asked for (or the queue overflowed, or a write failed).
  bool ending() const;
  // Messages waiting (not counting the one being written).
  size_t queued() const;

 private:
  // Takes the lock's place in a gRPC call on the stream: the stream cannot be finished (and
  // freed) while one is counted. False when it is finished already.
  bool enter_locked();
  // Picks the next message into out_; false (and nothing in flight) when there is none.
  bool take_next_locked();
  // After a write is done (ok: it was written): marks nothing in flight, ends the stream if
  // the write failed, and picks the next message. True: there is one to start.
  bool write_done_locked(bool ok);
  // Starts the write of current_ (the caller entered a gRPC call for it), then any the
  // deferred OnWriteDone left, and leaves. Unlocks `lock`.
  void start_writes(std::unique_lock<std::mutex>& lock);
  // Leaves a gRPC call; finishes the stream if it is ending and nobody else is in one.
  // Unlocks `lock` either way; the Finish itself runs without the lock.
  void leave(std::unique_lock<std::mutex>& lock);
  void finish_if_idle(std::unique_lock<std::mutex>& lock);
  // Marks the stream ending (first reason wins) and drops what waits; with `cancel`, cancels
  // the call once. Unlocks `lock`.
  void end_locked(const grpc::Status& status, bool cancel, std::unique_lock<std::mutex>& lock);

  StreamOps& stream_;
  const OutboxLimits limits_;

  mutable std::mutex mu_;
  std::string node_;
  std::deque<pb::ControllerMessage> queue_;
  size_t queued_bytes_ = 0;
  pb::ControllerMessage echo_;  // the heartbeat echo's slot, allocated once
  uint64_t echo_seq_ = 0;
  bool echo_due_ = false;
  pb::ControllerMessage out_;  // the queued message being written
  // What is being written (echo_ or out_): gRPC may read it until OnWriteDone.
  const pb::ControllerMessage* current_ = nullptr;
  bool writing_ = false;
  // A thread is inside StartWrite. gRPC may read the message until StartWrite returns, and may
  // run OnWriteDone on another thread (or inline) before that: such an OnWriteDone only
  // records itself in done_pending_/done_ok_, and the starting thread handles it. So the next
  // message is picked, and the slots reused, only after StartWrite returned, in an order the
  // lock (not gRPC's invisible internals) establishes.
  bool starting_ = false;
  bool done_pending_ = false;
  bool done_ok_ = false;
  int callers_ = 0;  // threads inside a gRPC call on the stream (the write in flight aside)
  bool ending_ = false;
  bool cancelled_ = false;
  bool finished_ = false;  // Finish was called: the stream may be gone
  grpc::Status status_;
};

}  // namespace faultline::controller
