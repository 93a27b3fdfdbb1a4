// The only way the controller reaches an injector. Two implementations: in-process (the
// embedded default of `faultline run`) and gRPC (injectors that dialled in), so both paths
// run the same engine.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "common/time_util.h"
#include "faultline/v1/injector_link.pb.h"

namespace faultline::controller {

namespace pb = ::faultline::v1;

struct InjectorInfo {
  std::string node_name;
  std::map<std::string, std::string> labels;
  std::vector<std::string> capabilities;
  std::string version;
};

// An injector's answer to a command, and when it arrived.
struct TimedAck {
  Result<pb::FaultAck> ack;
  MonoTime at;
};

// A command already sent: its ack to come, and the deadline set when it was sent. Waiting on
// many in turn therefore takes no longer than the slowest, and a fan-out needs no thread per
// node. Valid while its link lives (callers hold the link).
class PendingAck {
 public:
  // `forget` drops the command when the deadline passes and says why there is no answer.
  PendingAck(std::future<TimedAck> ack, MonoTime deadline, std::function<Error()> forget)
      : ack_(std::move(ack)), deadline_(deadline), forget_(std::move(forget)) {}
  // An answer that is already known (sent and answered in the caller's thread, or failed).
  static PendingAck answered(Result<pb::FaultAck> ack);

  // Answered or past the deadline: wait() will not block.
  bool ready() const;
  // Once only.
  TimedAck wait();

 private:
  std::future<TimedAck> ack_;
  MonoTime deadline_;
  std::function<Error()> forget_;
};

// PendingAck plus what the caller makes of the ack (metrics, the applied state).
template <typename T>
class Reply {
 public:
  using Finish = std::function<Result<T>(TimedAck)>;
  Reply(PendingAck pending, Finish finish)
      : pending_(std::move(pending)), finish_(std::move(finish)) {}
  bool ready() const { return pending_.ready(); }
  // Once only.
  Result<T> get() { return finish_(pending_.wait()); }

 private:
  PendingAck pending_;
  Finish finish_;
};

class InjectorLink {
 public:
  virtual ~InjectorLink() = default;

  virtual const InjectorInfo& info() const = 0;
  virtual bool connected() const = 0;
  // Time since the injector was last heard from.
  virtual Duration since_last_seen() const = 0;
  // Drops the connection (admin action); the injector's faults revert by their leases. A
  // link that has no connection to drop (in-process) ignores it.
  virtual void disconnect() {}
  // The fault ids the injector said it holds in its latest heartbeat (a halt reverts each);
  // empty for a link that has no heartbeats (in-process: its faults are the runs').
  virtual std::vector<std::string> active_faults() const { return {}; }

  // Sends at once; the reply waits for the ack, bounded by the link's command timeout.
  // `lease` lapses unless renewed; `max_duration` is the hard end no renewal extends (0: the
  // injector's default).
  virtual Reply<pb::AppliedState> start_apply(const std::string& fault_id,
                                              const std::string& run_id, const pb::FaultSpec& spec,
                                              Duration lease, Duration max_duration) = 0;
  // On success, what the fault achieved (may be "").
  virtual Reply<std::string> start_revert(const std::string& fault_id) = 0;
  virtual Reply<Ok> start_renew(const std::string& fault_id, Duration lease) = 0;

  // The same, waiting for the answer.
  Result<pb::AppliedState> apply(const std::string& fault_id, const std::string& run_id,
                                 const pb::FaultSpec& spec, Duration lease, Duration max_duration) {
    return start_apply(fault_id, run_id, spec, lease, max_duration).get();
  }
  Result<std::string> revert(const std::string& fault_id) { return start_revert(fault_id).get(); }
  Status renew(const std::string& fault_id, Duration lease) {
    return start_renew(fault_id, lease).get();
  }

  // The processes matching `selector` on the node now; empty when none match.
  virtual Result<std::vector<pb::TouchedProcess>> list_processes(
      const pb::ProcessSelector& selector) = 0;
  // The running containers or ready pods matching `selector` on the node now (through its
  // container runtime); empty when none match. Sent at once, answered like a command.
  virtual Reply<std::vector<pb::TouchedContainer>> start_list_containers(
      const pb::ContainerSelector& selector) = 0;
  // Runs a program on the node, if the injector's policy lists it (allow.commands); the reply
  // waits up to `timeout` plus the link's command timeout.
  virtual Reply<pb::CommandOutcome> start_run_command(const std::vector<std::string>& argv,
                                                      Duration timeout) = 0;
};

// Shared by both implementations: builds the command, sends it, and maps the ack.
class CommandLink : public InjectorLink {
 public:
  ~CommandLink() override { forget_applied(); }

  Reply<pb::AppliedState> start_apply(const std::string& fault_id, const std::string& run_id,
                                      const pb::FaultSpec& spec, Duration lease,
                                      Duration max_duration) override;
  Reply<std::string> start_revert(const std::string& fault_id) override;
  Reply<Ok> start_renew(const std::string& fault_id, Duration lease) override;
  Result<std::vector<pb::TouchedProcess>> list_processes(
      const pb::ProcessSelector& selector) override;
  Reply<std::vector<pb::TouchedContainer>> start_list_containers(
      const pb::ContainerSelector& selector) override;
  Reply<pb::CommandOutcome> start_run_command(const std::vector<std::string>& argv,
                                              Duration timeout) override;

 protected:
  // Delivers one command (command_id is already set) and returns without waiting for its ack;
  // `extra` lengthens the wait for it beyond the link's command timeout (a command's own).
  virtual PendingAck send(const pb::ControllerMessage& command,
                          Duration extra = Duration::zero()) = 0;
  // The connection is gone: the faults applied through it no longer count as active here
  // (their injector's leases revert them).
  void forget_applied();

 private:
  // Kinds of the faults applied through this link and not yet reverted, for the faults-active
  // gauge and the revert latency's label.
  std::mutex applied_mu_;
  std::map<std::string, std::string> applied_kinds_;  // by fault id
};

}  // namespace faultline::controller
