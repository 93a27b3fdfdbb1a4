#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "injector/fault_backend.h"

namespace faultline::injector {

// Slows down or fails reads and writes under a directory by mounting a FUSE passthrough
// filesystem over it (libfuse3, served by a thread of the injector). The directory's own
// contents stay reachable through a descriptor opened before the mount, so nothing is copied
// or lost. Revert unmounts (lazily, so open files do not block it); a crashed injector's dead
// mount is found by its type (fuse.faultline-io) and unmounted by crash recovery.
class IoFaultBackend : public FaultBackend {
 public:
  IoFaultBackend();
  ~IoFaultBackend() override;
  std::string kind() const override { return "io_fault"; }
  bool available() const override;
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

  struct Mount;

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Mount>>> mounts_;  // by fault id
};

}  // namespace faultline::injector
