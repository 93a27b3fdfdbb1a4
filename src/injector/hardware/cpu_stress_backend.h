#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "injector/fault_backend.h"

namespace faultline::injector {

// Busy worker threads inside the injector, each at a duty cycle (busy for load × 100 ms of
// every 100 ms), optionally pinned to CPUs. Threads of this process die with it, so a crash
// of the injector can never leave a stress behind; revert stops and joins them. On a container
// target the workers are processes in the container's cgroups (CgroupWorker), which end with
// the injector as well.
class CpuStressBackend : public FaultBackend {
 public:
  CpuStressBackend();
  ~CpuStressBackend() override;
  std::string kind() const override { return "cpu_stress"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;

 private:
  struct Stress;
  Result<AppliedFault> apply_in_containers(const std::string& fault_id, const pb::FaultSpec& spec,
                                           unsigned workers, double load);
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Stress>> running_;  // by fault id
};

}  // namespace faultline::injector
