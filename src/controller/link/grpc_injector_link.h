// An injector that dialled in over gRPC. Commands go down the injector's own stream (through
// its outbox: nothing here blocks on the network) and the caller waits for the matching ack
// (by command_id), bounded by a timeout.
#pragma once

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "controller/link/injector_link.h"
#include "controller/link/link_outbox.h"

namespace faultline::controller {

class GrpcInjectorLink : public CommandLink {
 public:
  // `outbox` is the stream's (null: a link that was never connected, for tests).
  GrpcInjectorLink(InjectorInfo info, std::shared_ptr<LinkOutbox> outbox, Duration command_timeout);

  const InjectorInfo& info() const override { return info_; }
  // A stream that is open but silent (peer partitioned or frozen: TCP has not noticed yet) is
  // not a connection anyone should count on.
  // The limit depends on what the injector said last: while it holds faults it beats at the
  // heartbeat interval, idle at the (longer) idle interval.
  bool connected() const override {
    return !closed_ && since_last_seen() < (holds_faults_ ? silence_limit_ : idle_silence_limit_);
  }
  void set_silence_limit(Duration limit) { silence_limit_ = idle_silence_limit_ = limit; }
  void set_silence_limits(Duration holding, Duration idle) {
    silence_limit_ = holding;
    idle_silence_limit_ = idle;
  }
  Duration since_last_seen() const override;

  // Called by the stream's reactor for every message after Register, on gRPC's thread:
  // quick, and nothing in it waits on the network.
  void on_message(const pb::InjectorMessage& msg);
  // The stream has ended: fail every pending command, refuse new ones.
  void close();
  // Cancels the stream; its end is then noticed like any other disconnect.
  void disconnect() override;
  // The fault ids the injector said it holds in its latest heartbeat.
  std::vector<std::string> active_faults() const override;

 protected:
  PendingAck send(const pb::ControllerMessage& command, Duration extra = Duration::zero()) override;

 private:
  InjectorInfo info_;
  const std::shared_ptr<LinkOutbox> outbox_;
  Duration command_timeout_;
  Duration silence_limit_ = Duration::max();
  Duration idle_silence_limit_ = Duration::max();
  std::atomic<bool> holds_faults_{false};  // its latest heartbeat named faults
  // Guards pending_, active_faults_, closed_ transitions; never held across a call into the
  // outbox (gRPC).
  mutable std::mutex mu_;
  std::map<std::string, std::promise<TimedAck>> pending_;
  std::vector<std::string> active_faults_;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> last_seen_ns_;
};

}  // namespace faultline::controller
