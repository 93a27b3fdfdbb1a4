// The fleet's halt switch: while it is pulled, no run starts and no schedule fires. Who pulled
// it, when and why are kept in the store when there is one, so a restart stays halted. The
// controller pulls it (Controller::halt also aborts the runs and reverts the faults); this
// class only holds the state and says what a refused submission is told.
#pragma once

#include <mutex>
#include <string>

#include "common/result.h"
#include "controller/store/run_store.h"

namespace faultline::controller {

// A reason is required, 1 to 500 characters, without control characters (it is shown in
// terminals and pages).
Status check_halt_reason(const std::string& reason);

class HaltSwitch {
 public:
  // Reads the stored state. Nothing stored: not halted.
  void attach(HaltStore* store);
  HaltRecord state() const;
  bool halted() const;
  // Pulls it; the error says the store did not keep it (the switch is pulled all the same:
  // halting must not depend on a disk).
  Status pull(const std::string& by, const std::string& reason, int64_t now_unix_ms);
  // kFailedPrecondition when it is not pulled; a store error leaves it pulled.
  Result<HaltRecord> lift(const std::string& by, int64_t now_unix_ms);
  // What a refused submission or schedule fire is told.
  std::string refusal() const;

 private:
  mutable std::mutex mu_;
  HaltRecord state_;
  HaltStore* store_ = nullptr;
};

// "halted by alice at 2026-12-07T20:31:05.000Z: db failover drill"
std::string describe_halt(const HaltRecord& h);

}  // namespace faultline::controller
