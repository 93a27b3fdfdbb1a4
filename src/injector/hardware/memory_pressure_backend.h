#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "injector/fault_backend.h"

namespace faultline::injector {

// Allocates and touches anonymous memory inside the injector, optionally ramping up, and
// never past the floor: MemAvailable must stay above `floor` × MemTotal (default 10%). The
// memory belongs to this process, so a crash of the injector frees it; revert unmaps it.
class MemoryPressureBackend : public FaultBackend {
 public:
  MemoryPressureBackend();
  ~MemoryPressureBackend() override;
  std::string kind() const override { return "memory_pressure"; }
  bool available() const override { return true; }
  Result<AppliedFault> apply(const std::string& fault_id, const pb::FaultSpec& spec) override;
  Status revert(const AppliedFault& fault) override;
  std::string achieved(const AppliedFault& fault) override;

  // Bytes currently held for a fault (what the ramp has reached so far).
  uint64_t held_bytes(const std::string& fault_id);

 private:
  struct Hold;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Hold>> holds_;
};

// MemTotal and MemAvailable from /proc/meminfo, in bytes.
struct MemInfo {
  uint64_t total = 0, available = 0;
};
Result<MemInfo> read_meminfo();

}  // namespace faultline::injector
