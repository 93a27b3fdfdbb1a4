// An injector that dialled in over gRPC. Commands go down the injector's own stream and the
// caller waits for the matching ack (by command_id), bounded by a timeout.
#pragma once

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/time_util.h"
#include "controller/link/injector_link.h"
#include "faultline/v1/injector_link.grpc.pb.h"

namespace faultline::controller {

using InjectorStream = grpc::ServerReaderWriter<pb::ControllerMessage, pb::InjectorMessage>;

class GrpcInjectorLink : public CommandLink {
 public:
  GrpcInjectorLink(InjectorInfo info, InjectorStream* stream, Duration command_timeout);

  const InjectorInfo& info() const override { return info_; }
  // A stream that is open but silent (peer partitioned or frozen: TCP has not noticed yet) is
  // not a connection anyone should count on.
  bool connected() const override { return !closed_ && since_last_seen() < silence_limit_; }
  void set_silence_limit(Duration limit) { silence_limit_ = limit; }
  Duration since_last_seen() const override;

  // Called by the stream's reader for every message after Register.
  void on_message(const pb::InjectorMessage& msg);
  // The stream has ended: fail every pending command, refuse new ones.
  void close();
  void set_context(grpc::ServerContext* context) {
    std::lock_guard lock(ctx_mu_);
    context_ = context;
  }
  // Cancels the stream if its handler still runs; the context dies with the handler, so
  // after close() there is nothing left to cancel.
  // Not under mu_: send() holds that across a Write that may be stuck on a frozen peer, and
  // cancelling is what unsticks it.
  void disconnect() override {
    std::lock_guard lock(ctx_mu_);
    if (context_) context_->TryCancel();
  }
  // The fault ids the injector said it holds in its latest heartbeat.
  std::vector<std::string> active_faults() const;

 protected:
  PendingAck send(const pb::ControllerMessage& command, Duration extra = Duration::zero()) override;

 private:
  InjectorInfo info_;
  InjectorStream* stream_;
  std::mutex ctx_mu_;                       // guards context_
  grpc::ServerContext* context_ = nullptr;  // null once the handler is done with the stream
  Duration command_timeout_;
  Duration silence_limit_ = Duration::max();
  mutable std::mutex mu_;  // guards stream_ writes, pending_, active_faults_, closed_ transitions
  std::map<std::string, std::promise<TimedAck>> pending_;
  std::vector<std::string> active_faults_;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> last_seen_ns_;
};

}  // namespace faultline::controller
