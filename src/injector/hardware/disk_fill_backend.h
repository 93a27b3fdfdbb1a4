#pragma once

#include "injector/fault_backend.h"

namespace faultline::injector {

// Fills the filesystem holding a path with one preallocated file, named after the fault id
// (`.faultline-fill-<fault id>` next to the path), so revert and crash recovery find and
// delete it from the id alone. Always leaves `reserve` bytes free (default 100 MiB). On a
// container target the path is inside the container's filesystem.
class DiskFillBackend : public FaultBackend {
 public:
  std::string kind() const override { return "disk_fill"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;
  Status recover_intent(const std::string& fault_id, const pb::FaultSpec& spec) override;

  // Where the fill file for this fault lives.
  static std::string fill_file(const std::string& fault_id, const std::string& path);

 private:
  // On a container target: the path is the container's, resolved inside its root
  // (containers/container_fs), and the file is recorded as the container sees it.
  Result<AppliedFault> apply_in_container(const std::string& fault_id, const pb::FaultSpec& spec);
  Status revert_in_container(const AppliedFault& fault);
};

}  // namespace faultline::injector
