// An injector living in the same process (the embedded default). The controller does not
// depend on the injector library: whoever composes the two passes the command handler in.
#pragma once

#include <functional>

#include "controller/link/injector_link.h"

namespace faultline::controller {

class InProcessInjectorLink : public CommandLink {
 public:
  using Handler = std::function<pb::FaultAck(const pb::ControllerMessage&)>;

  InProcessInjectorLink(InjectorInfo info, Handler handler)
      : info_(std::move(info)), handler_(std::move(handler)) {}

  const InjectorInfo& info() const override { return info_; }
  bool connected() const override { return true; }
  Duration since_last_seen() const override { return Duration::zero(); }

 protected:
  // The handler runs in the caller's thread: the answer is there when send returns.
  PendingAck send(const pb::ControllerMessage& command, Duration = Duration::zero()) override {
    return PendingAck::answered(handler_(command));
  }

 private:
  InjectorInfo info_;
  Handler handler_;
};

}  // namespace faultline::controller
