// The only way the controller reaches an injector. Two implementations: in-process (the
// embedded default of `faultline run`) and gRPC (injectors that dialled in), so both paths
// run the same engine.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "faultline/v1/injector_link.pb.h"

namespace faultline::controller {

namespace pb = ::faultline::v1;

struct InjectorInfo {
  std::string node_name;
  std::map<std::string, std::string> labels;
  std::vector<std::string> capabilities;
  std::string version;
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

  // Blocking, bounded by the link's command timeout. `lease` lapses unless renewed;
  // `max_duration` is the hard end no renewal extends (0: the injector's default).
  virtual Result<pb::AppliedState> apply(const std::string& fault_id, const std::string& run_id,
                                         const pb::FaultSpec& spec, Duration lease,
                                         Duration max_duration) = 0;
  // On success, what the fault achieved (may be "").
  virtual Result<std::string> revert(const std::string& fault_id) = 0;
  virtual Status renew(const std::string& fault_id, Duration lease) = 0;
  // The processes matching `selector` on the node now; empty when none match.
  virtual Result<std::vector<pb::TouchedProcess>> list_processes(
      const pb::ProcessSelector& selector) = 0;
};

// Shared by both implementations: builds the command, sends it, and maps the ack.
class CommandLink : public InjectorLink {
 public:
  ~CommandLink() override { forget_applied(); }

  Result<pb::AppliedState> apply(const std::string& fault_id, const std::string& run_id,
                                 const pb::FaultSpec& spec, Duration lease,
                                 Duration max_duration) override;
  Result<std::string> revert(const std::string& fault_id) override;
  Status renew(const std::string& fault_id, Duration lease) override;
  Result<std::vector<pb::TouchedProcess>> list_processes(
      const pb::ProcessSelector& selector) override;

 protected:
  // Delivers one command and waits for its ack. command_id is already set.
  virtual Result<pb::FaultAck> send(const pb::ControllerMessage& command) = 0;
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
